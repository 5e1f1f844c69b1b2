import ArgumentParser
import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import Foundation

struct WebhookGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "The URLs told when a project's connections turn Inactive, recover, or are about to expire.",
        discussion: """
            Each notification is a JSON POST signed with HMAC-SHA256 over the body under the webhook's \
            secret (X-Credlog-Signature: sha256=HEX), with X-Credlog-Delivery naming the delivery; \
            retries keep the delivery id.
            """,
        subcommands: [Add.self, Remove.self, List.self, Deliveries.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a webhook (admins); prints its id and signing secret, once.")
        @Option(help: "The project id.") var project: String
        @Option(help: "The http(s) URL to POST to.") var url: String
        @Option(help: "Warn this many days (1 to 90) before a credential credlog cannot renew expires.")
        var warnDays = MembershipEvent.WebhookAdded.defaultWarnDaysAhead
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let added = try await workspace.service.addWebhook(url: url, to: project, warnDaysAhead: warnDays, context: try workspace.context(options))
            if options.json { return try Output.json(["webhookId": added.id, "secret": added.secret]) }
            Output.line("webhook \(added.id) added; its signing secret (shown once):")
            Output.line(added.secret)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a webhook (admins); its pending deliveries are dropped.")
        @Option(help: "The project id.") var project: String
        @Argument(help: "The webhook id.") var id: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "removed \(id)", unchanged: "") { service, context in
                try await service.removeWebhook(id, from: project, context: context)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's webhooks (admins).")
        @Option(help: "The project id.") var project: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let state = try await workspace.project(project, options, adminsOnly: true)
            let hooks = state.webhooks.values.sorted { $0.webhookId < $1.webhookId }
            if options.json { return try Output.json(hooks.map { ["webhookId": $0.webhookId, "url": $0.url, "warnDaysAhead": String($0.warningLead)] }) }
            Output.table(["ID", "URL", "WARNS", "SECRET"], hooks.map { [$0.webhookId, $0.url, "\($0.warningLead) days ahead", $0.secret.fingerprint] })
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's webhook deliveries, newest first (admins).")
        @Option(help: "The project id.") var project: String
        @Option(help: "At most this many.") var limit = 50
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            _ = try await workspace.project(project, options, adminsOnly: true)
            let rows = try await workspace.database.read { db in try WebhookDelivery.list(project: project, limit: limit, db) }
            if options.json { return try Output.json(rows) }
            Output.table(["DELIVERY", "WEBHOOK", "EVENT", "STATE", "ATTEMPTS", "LAST ERROR"], rows.map {
                [$0.deliveryId, $0.webhookId, String($0.eventPosition), $0.state, String($0.attempts), $0.lastError ?? ""]
            })
        }
    }
}
