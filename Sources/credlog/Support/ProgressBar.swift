import CredlogProjections
import Foundation
import Synchronization

/// A one-line progress bar on stderr (events/s and ETA), shown only on a terminal and
/// redrawn at most ten times a second.
enum ProgressBar {
    /// A progress callback drawing the bar, or `nil` when stderr is not a terminal.
    static func forTerminal(label: String) -> (@Sendable (ProjectionRunner.Progress) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        let lastDrawn = Mutex<Duration?>(nil)
        return { progress in
            let done = progress.applied >= progress.total
            let due = lastDrawn.withLock { last -> Bool in
                guard done || last.map({ progress.elapsed - $0 >= .milliseconds(100) }) ?? true else { return false }
                last = progress.elapsed
                return true
            }
            guard due else { return }
            let seconds = max(Double(progress.elapsed.components.seconds) + Double(progress.elapsed.components.attoseconds) / 1e18, 1e-6)
            let rate = Double(progress.applied) / seconds
            let fraction = progress.total > 0 ? Double(progress.applied) / Double(progress.total) : 1
            let eta = rate > 0 ? Double(progress.total - progress.applied) / rate : 0
            let filled = Int(fraction * 30)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
            let line = String(format: "\r%@ [%@] %3.0f%% %lld/%lld events  %.0f events/s  ETA %.0fs",
                              label, bar, fraction * 100, progress.applied, progress.total, rate, eta)
            FileHandle.standardError.write(Data(line.utf8))
            if done { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    /// A line on stderr.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("credlog: \(text)\n".utf8))
    }
}
