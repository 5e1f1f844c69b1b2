import Foundation

/// The target that `CREDLOG_FUZZ_TARGET` names (one of ``FuzzTargets/all``).
let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["CREDLOG_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("set CREDLOG_FUZZ_TARGET to one of: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point (built with `-sanitize=fuzzer` by `scripts/fuzz`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    selectedTarget(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line through the target (the
/// committed corpus, a crash libFuzzer found).
@main
struct ReplayInputs {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            _ = data.withUnsafeBytes { fuzzOneInput($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) }
        }
    }
}
#endif
