import Logging
import Synchronization

/// Keeps every log line the server writes, to look for secrets in them.
public final class LogCapture: Sendable {
    public init() {}

    private let lines = Mutex<[String]>([])

    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    public func handler() -> some LogHandler { CapturingHandler(capture: self) }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(all)")
        }
    }
}
