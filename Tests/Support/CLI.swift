import Foundation

/// Runs the built `credlog` executable the way a person or a script would.
public struct CLI: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The working directory and environment of every run.
    public let directory: URL
    public var environment: [String: String]

    /// A CLI working in a new temporary directory, with `CREDLOG_DB` and the key file there.
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        for name in ["CREDLOG_DB", "CREDLOG_ACTOR", "CREDLOG_MASTER_KEY", "CREDLOG_KEY_FILE", "CREDLOG_ALLOW_PRIVATE_DESTINATIONS"] {
            environment[name] = nil
        }
        environment["CREDLOG_DB"] = directory.appendingPathComponent("credlog.sqlite").path
        self.environment = environment
    }

    public var databasePath: String { environment["CREDLOG_DB"]! }

    /// The `credlog` executable built beside the tests (or `$CREDLOG_BIN`).
    public static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["CREDLOG_BIN"] { return URL(fileURLWithPath: path) }
        var candidates = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        for directory in candidates {
            var folder = directory
            for _ in 0..<3 {
                let binary = folder.appendingPathComponent("credlog")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: binary.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return binary
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        fatalError("the credlog executable was not found beside the tests; set CREDLOG_BIN")
    }()

    /// The package's root directory (for its scripts).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `credlog ARGS`, feeding `stdin`.
    @discardableResult
    public func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Result {
        try Self.launch(Self.executable, arguments, stdin: stdin, directory: directory, environment: environment.merging(extra) { $1 })
    }

    /// Runs any program (a script, `sqlite3`) in this CLI's directory and environment.
    @discardableResult
    public func runProgram(_ program: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        try Self.launch(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, stdin: nil, directory: directory,
                        environment: environment.merging(extra) { $1 })
    }

    public static func launch(_ executable: URL, _ arguments: [String], stdin: String?, directory: URL,
                       environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        let out = directory.appendingPathComponent(".out-\(UUID().uuidString)")
        let err = directory.appendingPathComponent(".err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: FileManager.default.contents(atPath: out.path) ?? Data(), as: UTF8.self),
                      stderr: String(decoding: FileManager.default.contents(atPath: err.path) ?? Data(), as: UTF8.self))
    }

    /// The number of events, counted by SQLite itself.
    public func eventCount() throws -> Int {
        Int(try runProgram("sqlite3", [databasePath, "SELECT COUNT(*) FROM events"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Every file in the working directory, concatenated.
    public func allFileBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            bytes += [UInt8](FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) ?? Data())
        }
        return bytes
    }
}
