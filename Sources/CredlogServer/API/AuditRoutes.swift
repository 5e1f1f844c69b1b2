import CredlogProjections
import Hummingbird

/// The audit trail and the reports, limited to the token's project.
struct AuditRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("audit", use: audit)
        group.get("reports/:report", use: report)
    }

    /// A page of the trail (`limit`, 100 by default; `after` the previous page's `nextCursor`),
    /// oldest first or, with `order=newest`, newest first.
    @Sendable func audit(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        let audit = AuditQuery(projectId: identity.projectId, connectionId: query.get("connection"), actorId: query.get("actor"),
                               action: query.get("type"), since: try query.time("since")?.iso8601,
                               until: try query.time("until")?.iso8601,
                               limit: try query.integer("limit", default: 100, in: 1...AuditQuery.maxLimit), after: query.get("after"),
                               newestFirst: try query.enumValue("order", default: TrailOrder.oldest) == .newest)
        return try JSONCoding.response(try await environment.queries.audit(audit, for: identity.reader))
    }

    /// The order of `GET /v1/audit`'s entries.
    enum TrailOrder: String, CaseIterable { case oldest, newest }

    /// `?format=csv|json|jsonl|table` (csv by default, as a download) and `?asOf=` a past time;
    /// streamed as its rows are read (``Report/write(_:of:asOf:projects:batchSize:to:)``).
    @Sendable func report(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        guard let report = Report(rawValue: try context.parameters.require("report")) else {
            throw Problem(.notFound, "no such report; reports are " + Report.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let format = try query.enumValue("format", default: ReportFormat.csv)
        let asOf = try query.time("asOf")
        var headers: HTTPFields = [.contentType: format.mediaType]
        if format == .csv { headers[.contentDisposition] = "attachment; filename=\"\(report.rawValue).csv\"" }
        let database = environment.database
        let projects = [identity.projectId]
        // Written as it is read; a failure part-way closes the connection before the last chunk,
        // so that the client sees a cut-off download, not a short report.
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await report.write(format, of: database, asOf: asOf, projects: projects) { text in
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        })
    }
}

extension ReportFormat {
    /// The media type of a report in this format.
    var mediaType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json"
        case .jsonl: "application/x-ndjson"
        case .table: "text/plain; charset=utf-8"
        }
    }
}
