import CredlogEvents
import CredlogProjections
import Hummingbird

/// What load balancers and Kubernetes ask, without a token, and what they are told: a status
/// and one word per check, never a project, a count or an error's text.
/// - `GET /health/live`: the process answers (200).
/// - `GET /health/ready`: 200 when the database answers, the keyring in it is still the one this
///   server opened (no master key rotation since), and every projection is within
///   ``ServerEnvironment/maxProjectionLag`` events of the log's head; 503 otherwise, and 200 again once they are,
///   without a restart.
struct HealthRoutes {
    let environment: ServerEnvironment

    struct Readiness: Encodable {
        var status: String
        var checks: [String: String]
    }

    func register(on router: Router<CredlogRequestContext>) {
        router.get("health/live") { _, _ in try JSONCoding.response(Readiness(status: "live", checks: [:])) }
        router.get("health/ready") { _, _ in
            let readiness = await ready()
            var response = try JSONCoding.response(readiness, status: readiness.status == "ready" ? .ok : .serviceUnavailable)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    /// Each check's word; the database's failure fails the others, which read it.
    func ready() async -> Readiness {
        var checks = ["database": "ok", "keys": "ok", "projections": "ok"]
        let masterKeyId = environment.service.vault.keys.masterKey.id
        do {
            let (keyIds, lag) = try await environment.database.read { db in
                (try db.fetchAll(sql: "SELECT DISTINCT master_key_id FROM keyring").map { try $0[0] as String },
                 try ProjectionRunner.status(db).map(\.lag).max() ?? 0)
            }
            if keyIds != [masterKeyId] { checks["keys"] = "rotated" }
            if lag > environment.maxProjectionLag { checks["projections"] = "behind" }
        } catch {
            checks = ["database": "unavailable", "keys": "unknown", "projections": "unknown"]
        }
        return Readiness(status: checks.values.allSatisfy { $0 == "ok" } ? "ready" : "unready", checks: checks)
    }
}
