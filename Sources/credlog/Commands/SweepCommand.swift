import ArgumentParser
import CredlogEvents
import CredlogLifecycle
import CredlogProjections

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Refresh OAuth2 tokens ahead of expiry, expire lapsed credentials, send due webhook notifications.",
        discussion: """
            What `credlog serve` does in the background, once, for cron. Tokens expiring within \
            --lead are refreshed, and every OAuth2 connection at least once a day; a provider that \
            fails (network, 5xx) for longer than --grace gets its connection expired.
            """)
    @Option(help: "Refresh tokens expiring within this span.") var lead = TimeSpan(seconds: 15 * 60)
    @Option(help: "How long a provider may fail refreshes before the connection is expired.") var grace = TimeSpan(seconds: 3_600)
    @Option(help: "Also recheck connections of catalogued pieces with a validation request not checked for this long, such as 24h.")
    var recheckEvery: TimeSpan?
    @OptionGroup var options: GlobalOptions

    func validate() throws { try RecheckOption.validate(recheckEvery) }

    func run() async throws {
        let workspace = try await Workspace.open(options)
        var settings = LifecycleSettings()
        settings.refreshLead = lead.duration
        settings.gracePeriod = grace.duration
        settings.recheckEvery = recheckEvery?.duration
        let round = try await workspace.lifecycle(settings).round(now: try options.now(), sweeping: true)
        let sweep = round.sweep ?? .init()
        for id in sweep.refreshed { Output.line("refreshed \(id)") }
        for (id, reason) in sweep.expired.sorted(by: { $0.key < $1.key }) { Output.line("expired \(id): \(reason)") }
        for (id, error) in sweep.failing.sorted(by: { $0.key < $1.key }) { Output.line("failing \(id): \(error) (still Active)") }
        for (id, why) in sweep.unrenewable.sorted(by: { $0.key < $1.key }) { Output.line("cannot refresh \(id): \(why)") }
        for (id, passed) in sweep.rechecked.sorted(by: { $0.key < $1.key }) {
            Output.line("rechecked \(id): " + (passed ? "accepted" : "refused by its provider (now Inactive)"))
        }
        for (id, webhooks) in sweep.warned.sorted(by: { $0.key < $1.key }) { Output.line("warned \(webhooks.joined(separator: ", ")) of \(id)'s expiry") }
        for (id, error) in sweep.errors.sorted(by: { $0.key < $1.key }) { Output.line("error \(id): \(error)") }
        for attempt in round.deliveries {
            Output.line(attempt.delivered ? "delivered \(attempt.deliveryId)" : "not delivered \(attempt.deliveryId): \(attempt.error ?? "")")
        }
        Output.line("swept: \(sweep.refreshed.count) refreshed, \(sweep.expired.count) expired, \(sweep.failing.count) failing; "
                    + "\(round.enqueued) notifications queued, \(round.deliveries.filter(\.delivered).count) delivered")
    }
}


/// `--recheck-every`: at least an hour, so a recheck cannot become a flood of requests to providers.
enum RecheckOption {
    static func validate(_ span: TimeSpan?) throws {
        guard let span else { return }
        guard span.microseconds >= 3_600_000_000 else { throw ValidationError("--recheck-every is 1h or more") }
    }
}
