import ArgumentParser
import Foundation

/// The `--credentials-stdin` flag: credentials come as a JSON object on standard input, never in argv.
struct CredentialsInput: ParsableArguments {
    @Flag(help: "Read the credentials, a JSON object, from standard input (they are never taken from arguments).")
    var credentialsStdin = false

    func validate() throws {
        guard credentialsStdin else {
            throw ValidationError("pass --credentials-stdin and the credentials as a JSON object on standard input")
        }
    }

    /// Reads standard input to its end.
    func read() -> [UInt8] {
        if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data("reading credentials JSON from standard input; end with Ctrl-D\n".utf8))
        }
        return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }
}
