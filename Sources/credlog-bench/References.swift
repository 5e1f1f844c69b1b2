import Foundation

/// Runs the reference implementations (the C program against SQLite, the Python library)
/// and the credlog CLI as child processes, and reads the JSON line each prints.
struct References {
    let rawSQLite: String
    let python: String
    let pythonScript: String
    let credlog: String

    struct Run {
        var json: [String: Any]
        /// Peak resident memory of the child, in MiB.
        var peakMiB: Double
        var seconds: Double
    }

    func raw(_ arguments: [String]) throws -> Run { try Self.launch(rawSQLite, arguments) }
    func eventsourcing(_ arguments: [String]) throws -> Run { try Self.launch(python, [pythonScript] + arguments) }

    /// Runs the credlog CLI on `database` with `masterKey`.
    func cli(_ arguments: [String], database: String, masterKey: String) throws -> Run {
        try Self.launch(credlog, arguments, environment: ["CREDLOG_DB": database, "CREDLOG_MASTER_KEY": masterKey])
    }

    /// Spawns a child and waits for it with `wait4`, which reports that child's own peak memory.
    static func launch(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let start = Date()
        let child = try Self.start(executable, arguments, environment: environment, output: outputPath)
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(child.pid, &status, 0, &usage)
        let seconds = Date().timeIntervalSince(start)
        guard status == 0 else {
            throw BenchError.childFailed("\(executable) \(arguments.joined(separator: " ")) failed (status \(status))")
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").last.map(String.init) ?? "{}"
        // One JSON document (credlog's pretty output) or JSON on the last line (the references).
        let json = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? (try? JSONSerialization.jsonObject(with: Data(line.utf8))))
            as? [String: Any] ?? ["output": line]
        return Run(json: json, peakMiB: Double(usage.ru_maxrss) / 1024, seconds: seconds)
    }
}

extension References {
    /// A child left running (a server), stopped with SIGTERM.
    struct Running {
        let pid: pid_t

        /// Stops the child and waits for it; its peak resident memory, in MiB.
        func stop() throws -> Double {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            var usage = rusage()
            _ = wait4(pid, &status, 0, &usage)
            return Double(usage.ru_maxrss) / 1024
        }
    }

    /// Spawns a child, its standard output into the file `output` (discarded by default).
    static func start(_ executable: String, _ arguments: [String], environment: [String: String],
                      output: String = "/dev/null") throws -> Running {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, executable, &actions, nil, argv, env) == 0 else { throw BenchError.childFailed("cannot start \(executable)") }
        return Running(pid: pid)
    }

    /// Runs a bash command line; its standard output, or an error when it fails.
    @discardableResult
    static func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // The command line may hold a token: the error does not repeat it.
        guard process.terminationStatus == 0 else { throw BenchError.childFailed("a shell command failed (status \(process.terminationStatus))") }
        return String(decoding: data, as: UTF8.self)
    }
}

enum BenchError: Error, CustomStringConvertible {
    case childFailed(String)
    case mismatch(String)

    var description: String {
        switch self {
        case .childFailed(let what): "a reference failed: \(what)"
        case .mismatch(let what): "results differ from the references: \(what)"
        }
    }
}
