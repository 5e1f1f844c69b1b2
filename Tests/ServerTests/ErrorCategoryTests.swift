@testable import CredlogDomain
@testable import CredlogEvents
import CredlogLifecycle
@testable import CredlogServer
import Testing

/// Every error of credlog's own answers with the status of its category; server faults answer
/// with a fixed text that quotes nothing of the error.
@Suite("Error categories and HTTP statuses")
struct ErrorCategoryTests {
    @Test(arguments: [
        (DomainError.invalid("name is empty"), 422), (DomainError.notFound("connection c1"), 404),
        (DomainError.forbidden("members may not"), 403), (DomainError.alreadyExists("project acme"), 409),
        (DomainError.connectionDeleted("c1"), 409), (ConnectionInactive(connectionId: "c1", reason: "expired: x"), 409),
        (KeyError.dataKeyShredded(connectionId: "c1"), 409), (OAuth2Flow.Failure.unknownState, 400),
        (StoreError.emptyAppend(stream: .connection("c1")), 422),
    ] as [(any CategorizedError, Int)])
    func clientErrorsAnswerWithTheirCategorysStatusAndTheirOwnText(error: any CategorizedError, status: Int) {
        let problem = Problem.from(error)
        #expect(problem.status == status)
        #expect(problem.detail == error.description)
    }

    @Test(arguments: [
        (StoreError.database(sqlState: "08006", message: "/srv/secret-path"), 503, "the database is unavailable; retry shortly"),
        (StoreError.database(sqlState: "53100", message: "/srv/secret-path"), 503, "the database is unavailable; retry shortly"),
        (StoreError.database(sqlState: "23505", message: "/srv/secret-path"), 500, "the database refused the request"),
        (StoreError.badLocation("/srv/secret-path"), 500, "the database cannot be used"),
        (StoreError.notInitialised(path: "/srv/secret-path"), 500, "the database is not initialised"),
        (KeyError.keyringDamaged(name: "/srv/secret-path"), 500, "the keyring cannot be used"),
        (CorruptEventRow(position: 7), 500, "unexpected error; see the server log (request id in X-Request-Id)"),
    ] as [(any CategorizedError, Int, String)])
    func serverFaultsAnswerWithAFixedText(error: any CategorizedError, status: Int, detail: String) {
        let problem = Problem.from(error)
        #expect(problem.status == status)
        #expect(problem.detail == detail)
        #expect(problem.detail?.contains("secret-path") == false)
    }

    @Test func aConflictCarriesTheCurrentVersionAndAStaleIfMatchIsAPreconditionFailure() {
        let conflict = Problem.from(StoreError.wrongExpectedVersion(stream: .connection("c1"), expected: .exact(2), actual: 5))
        #expect(conflict.status == 409 && conflict.currentVersion == 5)
        let stale = Problem.from(VersionMismatch(expected: 2, current: 5))
        #expect(stale.status == 412 && stale.currentVersion == 5)
        let reused = Problem.from(StoreError.idempotencyKeyReused(key: "k-1"))
        #expect(reused.status == 422 && reused.detail == "this Idempotency-Key was used for another request")
    }
}
