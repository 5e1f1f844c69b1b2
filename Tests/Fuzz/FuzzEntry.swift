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

/// One input through the selected target (libFuzzer's callback, and the replay's).
func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selectedTarget(start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
    return 0
}

#if FUZZING
/// libFuzzer's driver (linked by `-sanitize=fuzzer`): runs the callback on generated inputs.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// libFuzzer's callback, for its own `main` (the runtime links it in).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzOneInput(start, count)
}

/// The entry point when built by `scripts/fuzz` (`-DFUZZING -sanitize=fuzzer -parse-as-library`):
/// SwiftPM links an executable's `main` to `<product>_main`, which hands over to libFuzzer.
@_cdecl("credlog_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runFuzzerDriver(&count, &arguments) { start, size in fuzzOneInput(start, size) }
}
#else
/// Built plainly: replays the files named on the command line through the target (the
/// committed corpus, an input libFuzzer found).
@main
struct ReplayInputs {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            _ = [UInt8](data).withUnsafeBufferPointer { fuzzOneInput($0.baseAddress, $0.count) }
        }
    }
}
#endif
