import ArgumentParser
import CredlogEvents

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain; report the first position that was tampered with.",
        discussion: "Keep the printed head (POSITION:HASH) somewhere safe; --expect-head then catches a log rolled back or truncated since.")

    @Option(help: "A head printed by an earlier verify, as POSITION:HASH.") var expectHead: String?
    @OptionGroup var options: GlobalOptions

    func validate() throws {
        if let expectHead, ChainHeadReference(expectHead) == nil {
            throw ValidationError("--expect-head takes POSITION:HASH, as printed by an earlier `credlog verify`")
        }
    }

    func run() async throws {
        let workspace = try await Workspace.open(options, catchingUp: false)
        let report = try await ChainVerifier(chain: ChainHasher(key: workspace.keys.chainKey))
            .verify(workspace.database, expectedHead: expectHead.flatMap(ChainHeadReference.init))
        if options.json {
            try Output.json(VerifyView(report))
        } else if report.isIntact {
            Output.line("verified \(report.eventCount) events; head \(report.head?.description ?? "0 (empty log)")")
        }
        if let problem = report.firstProblem {
            throw CLIError.integrity("tampering detected at \(problem)")
        }
    }
}

private struct VerifyView: Encodable {
    var intact: Bool
    var eventCount: Int64
    var head: String?
    var firstBadPosition: Int64?
    var problem: String?

    init(_ report: VerificationReport) {
        intact = report.isIntact
        eventCount = report.eventCount
        head = report.head?.description
        firstBadPosition = report.firstProblem?.position
        problem = report.firstProblem?.reason
    }
}
