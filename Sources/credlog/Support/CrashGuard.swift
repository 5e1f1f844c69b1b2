import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a crash may print. credlog's memory holds secrets (credentials being sealed or handed to
/// the engine, tokens from providers); the Swift runtime's crash report prints registers and
/// memory near them, which can hold the first bytes of one. credlog replaces that report with a
/// fixed line and forbids core dumps.
///
/// `CREDLOG_CRASH_BACKTRACE=1` keeps the runtime's report, for debugging on a machine with no
/// secrets worth keeping.
enum CrashGuard {
    static func install(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var noCores = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCores)
        guard environment["CREDLOG_CRASH_BACKTRACE"] != "1" else { return }
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = crashed
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
            _ = sigaction(signal, &action, nil)
        }
    }
}

/// Writes one fixed line (nothing of memory) and ends the process; async-signal-safe.
private func crashed(_ signal: Int32) {
    let message: StaticString = "credlog: crashed (a bug); no memory is printed, as it may hold secrets. Set CREDLOG_CRASH_BACKTRACE=1 to get the runtime's report.\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(70)
}
