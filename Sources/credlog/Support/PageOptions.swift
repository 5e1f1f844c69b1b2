import ArgumentParser
import Foundation

/// `--limit` and `--after`: one page of a long listing at a time, as the API reads it.
struct PageOptions: ParsableArguments {
    @Option(help: "At most this many rows, 1 to 1000: one page (with --json, the API's page: the rows and nextCursor). Without it, every row.")
    var limit: Int?
    @Option(help: "Start after this cursor: the one the previous page ended with (needs --limit).") var after: String?

    func validate() throws {
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit is from 1 to 1000") }
        if after != nil, limit == nil { throw ValidationError("--after reads a page: give --limit too") }
    }

    /// Tells on stderr where the next page starts, when there is one.
    static func announce(next cursor: String?) {
        guard let cursor else { return }
        FileHandle.standardError.write(Data("more: --after \(cursor)\n".utf8))
    }
}
