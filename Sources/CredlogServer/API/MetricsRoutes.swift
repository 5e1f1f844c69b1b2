import CredlogEvents
import CredlogProjections
import Hummingbird

/// `GET /metrics`: the server's series in Prometheus's text format, for the holder of the scrape
/// token only (`Authorization: Bearer …`; anyone else gets 401, and the route is 404 when no token
/// was configured). No series is labelled with a project, a connection or a token: routes are
/// templates, pieces are catalogue ids, projections are the read models' names.
struct MetricsRoutes {
    let environment: ServerEnvironment

    func register(on router: Router<CredlogRequestContext>) {
        router.get("metrics") { request, _ in
            let metrics = environment.metrics
            guard let token = metrics.scrapeToken else { throw Problem(.notFound, "metrics are not served: start with --metrics-token-file") }
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
                  token.admits(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
                var response = Problem(.unauthorized, "the metrics need the scrape token: Authorization: Bearer …").response()
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            }
            await sampleGauges()
            var response = Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    /// The gauges that are read from the database when scraped. A database that does not answer
    /// leaves them as last sampled and sets `credlog_metrics_database_up` to 0.
    private func sampleGauges() async {
        let metrics = environment.metrics
        do {
            let (statuses, backlog) = try await environment.database.read { db in
                (try ProjectionRunner.status(db),
                 try db.fetchValue(sql: "SELECT COUNT(*) FROM webhook_outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL") as Int64? ?? 0)
            }
            for status in statuses {
                metrics.set("credlog_projection_lag_events", [("projection", status.name)], to: status.lag)
            }
            metrics.set("credlog_log_head_position", to: statuses.first?.head ?? 0)
            metrics.set("credlog_webhook_backlog", to: backlog)
            metrics.set("credlog_metrics_database_up", to: 1)
        } catch {
            metrics.set("credlog_metrics_database_up", to: 0)
        }
    }
}
