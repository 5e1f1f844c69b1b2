import Foundation
import Synchronization

/// What PostgreSQL needs done to credlog's SQL text: its placeholders numbered, its scripts
/// split into statements (an extended-protocol query carries one statement).
enum SQLScript {
    private static let numbered = Mutex<[String: (sql: String, count: Int)]>([:])

    /// `?` → `$1`, `$2`, … outside quoted text, and how many there are (remembered per statement).
    static func numberingPlaceholders(_ sql: String) -> (sql: String, count: Int) {
        if let known = numbered.withLock({ $0[sql] }) { return known }
        var output = ""
        var count = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                count += 1
                output += "$\(count)"
            } else {
                output.append(character)
            }
        }
        numbered.withLock { $0[sql] = (output, count) }
        return (output, count)
    }

    /// The statements of a script, split at `;` outside quotes, `$$` bodies and `--` comments.
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var inDollarBody = false
        var inComment = false
        var previous: Character = " "
        for character in script {
            defer { previous = character }
            if inComment {
                if character == "\n" { inComment = false }
                current.append(character)
                continue
            }
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "$" && previous == "$" {
                inDollarBody.toggle()
            } else if !inDollarBody {
                if character == "-" && previous == "-" { inComment = true }
                if character == "'" || character == "\"" { quote = character }
                if character == ";" {
                    let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !statement.isEmpty { statements.append(statement) }
                    current = ""
                    continue
                }
            }
            current.append(character)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty && !last.split(separator: "\n").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }) {
            statements.append(last)
        }
        return statements
    }
}
