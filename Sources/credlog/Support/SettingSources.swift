import ArgumentParser
import Configuration
import Foundation
import SystemPackage

/// Where a setting came from, in the order each one overrides the next: a flag, the
/// environment, the `--config` file, credlog's default.
enum SettingSource: Equatable, CustomStringConvertible {
    case flag
    case environment(String)
    case file(String)
    case `default`

    var description: String {
        switch self {
        case .flag: "flag"
        case .environment(let name): "environment (\(name))"
        case .file(let path): "file (\(path))"
        case .default: "default"
        }
    }
}

/// The environment (`CREDLOG_PORT` for the key `port`) and a JSON settings file, read through
/// swift-configuration. Keys are the options' long names: `port`, `session-idle-timeout`.
struct SettingSources {
    private let environment: ConfigReader
    private let file: ConfigReader?
    private let filePath: String?
    /// The top-level keys of the file, to find those credlog does not know (typos).
    let fileKeys: [String]

    /// The largest settings file read, in bytes.
    static let maxFileBytes = 1 << 20

    /// The environment alone, or with the JSON object in `file`. A file that is missing, larger
    /// than 1 MiB, or not a JSON object is a usage error that quotes none of its content.
    static func open(file: String?, environment: [String: String]) async throws -> SettingSources {
        let variables = KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) { key in
            key.prepending(["credlog"])
        }
        guard let file else { return SettingSources(environment: ConfigReader(provider: variables), file: nil, filePath: nil, fileKeys: []) }
        let keys = try topLevelKeys(of: file)
        let provider: FileProvider<JSONSnapshot>
        do {
            provider = try await FileProvider<JSONSnapshot>(filePath: FilePath(file))
        } catch {
            throw CLIError.usage("--config \(file): not a JSON object of settings")
        }
        return SettingSources(environment: ConfigReader(provider: variables), file: ConfigReader(provider: provider), filePath: file, fileKeys: keys)
    }

    /// The environment variable that sets `key`.
    static func variable(for key: String) -> String {
        "CREDLOG_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The text of `key` and where it came from: the environment first, then the file. A file's
    /// number or boolean is given as its text (`8080`, `true`).
    func text(_ key: String) -> (text: String, source: SettingSource)? {
        let configKey = ConfigKey([key])
        if let value = environment.string(forKey: configKey), !value.isEmpty { return (value, .environment(Self.variable(for: key))) }
        guard let file, let filePath else { return nil }
        let value = file.string(forKey: configKey) ?? file.int(forKey: configKey).map(String.init)
            ?? file.double(forKey: configKey).map { String($0) } ?? file.bool(forKey: configKey).map(String.init)
        return value.map { ($0, .file(filePath)) }
    }

    private init(environment: ConfigReader, file: ConfigReader?, filePath: String?, fileKeys: [String]) {
        self.environment = environment
        self.file = file
        self.filePath = filePath
        self.fileKeys = fileKeys
    }

    private static func topLevelKeys(of file: String) throws -> [String] {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw CLIError.usage("--config \(file): cannot read it") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxFileBytes + 1)) ?? nil
        guard let data, data.count <= maxFileBytes else { throw CLIError.usage("--config \(file): empty, or larger than 1 MiB") }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIError.usage("--config \(file): not a JSON object of settings")
        }
        return object.keys.sorted()
    }
}

/// Resolves settings one by one — a flag, else the environment, else the file, else the
/// default — keeping what each one is and where it came from, and every problem met (a value
/// that does not parse is named with its source, never quoted: it may be a misplaced secret).
struct SettingsResolver {
    let sources: SettingSources
    private(set) var settings: [(key: String, value: String, source: SettingSource)] = []
    private(set) var problems: [String] = []

    init(_ sources: SettingSources) { self.sources = sources }

    /// `key`'s value, or `fallback` when no source has one (or one that does not parse, a problem).
    mutating func value<T: ExpressibleByArgument>(_ flag: T?, _ key: String, default fallback: T,
                                                  shown: (T) -> String = { "\($0)" }) -> T {
        let (value, source) = parsed(flag, key) ?? (fallback, .default)
        settings.append((key, shown(value), source))
        return value
    }

    /// `key`'s value, or nil when no source has one.
    mutating func optional<T: ExpressibleByArgument>(_ flag: T?, _ key: String, shown: (T) -> String = { "\($0)" }) -> T? {
        guard let (value, source) = parsed(flag, key) else {
            settings.append((key, "(none)", .default))
            return nil
        }
        settings.append((key, shown(value), source))
        return value
    }

    /// A switch: set by its flag, or by `true`/`1`/`false`/`0` in the environment or the file.
    mutating func flag(_ flag: Bool, _ key: String) -> Bool {
        if flag {
            settings.append((key, "true", .flag))
            return true
        }
        guard let (text, source) = sources.text(key) else {
            settings.append((key, "false", .default))
            return false
        }
        let value: Bool? = switch text.lowercased() {
        case "true", "1", "yes": true
        case "false", "0", "no": false
        default: nil
        }
        guard let value else {
            problems.append("\(key) in the \(source) is true or false")
            settings.append((key, "false", .default))
            return false
        }
        settings.append((key, String(value), source))
        return value
    }

    /// Records a problem found once the values are known (a range, two settings that disagree).
    mutating func problem(_ text: String) { problems.append(text) }

    private mutating func parsed<T: ExpressibleByArgument>(_ flag: T?, _ key: String) -> (T, SettingSource)? {
        if let flag { return (flag, .flag) }
        guard let (text, source) = sources.text(key) else { return nil }
        guard let value = T(argument: text) else {
            problems.append("\(key) in the \(source) is not a valid value (see `credlog serve --help`)")
            return nil
        }
        return (value, source)
    }
}
