import CredlogProjections
import Hummingbird

/// The audit trail and the reports, limited to the token's project.
struct AuditRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("audit", use: audit)
        group.get("reports/:report", use: report)
    }

    @Sendable func audit(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        let audit = AuditQuery(projectId: identity.projectId, connectionId: query.get("connection"), actorId: query.get("actor"),
                               action: query.get("type"), since: try query.time("since")?.iso8601,
                               until: try query.time("until")?.iso8601)
        return try JSONCoding.response(try await environment.queries.audit(audit, for: identity.reader))
    }

    /// `?format=csv|json|jsonl|table` (csv by default, as a download) and `?asOf=` a past time.
    @Sendable func report(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        guard let report = Report(rawValue: try context.parameters.require("report")) else {
            throw Problem(.notFound, "no such report; reports are " + Report.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let format = try query.enumValue("format", default: ReportFormat.csv)
        let rows = try await report.rows(of: environment.database, asOf: try query.time("asOf"), projects: [identity.projectId])
        let text = try format.render(columns: report.columns, rows: rows)
        var headers: HTTPFields = [.contentType: format.mediaType]
        if format == .csv { headers[.contentDisposition] = "attachment; filename=\"\(report.rawValue).csv\"" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
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
