import CredlogLifecycle
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A webhook receiver on loopback: checks each signature, keeps every delivery attempt, answers
/// with the status it is told to.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var deliveryId: String
        var body: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] ?? [:] }
        var raw: String
        var signatureValid: Bool
        var answered: Int
    }

    private let state = Mutex<(received: [Received], answer: Int, secret: String)>(([], 200, ""))

    var received: [Received] { state.withLock { $0.received } }
    /// The deliveries acknowledged (2xx), by delivery id: how many times each was.
    var acknowledged: [String: Int] {
        state.withLock { $0.received.filter { (200..<300).contains($0.answered) } }
            .reduce(into: [:]) { $0[$1.deliveryId, default: 0] += 1 }
    }

    func answer(_ status: Int) { state.withLock { $0.answer = status } }
    func expectSecret(_ secret: String) { state.withLock { $0.secret = secret } }

    func serve(_ body: @Sendable (_ hookURL: String) async throws -> Void) async throws {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let bytes = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let signature = request.headers[.init("X-Credlog-Signature")!] ?? ""
            let answered = self.state.withLock { state -> Int in
                state.received.append(Received(
                    deliveryId: request.headers[.init("X-Credlog-Delivery")!] ?? "", raw: String(decoding: bytes, as: UTF8.self),
                    signatureValid: WebhookSignature.verify(signature, body: bytes, secret: Array(state.secret.utf8)),
                    answered: state.answer))
                return state.answer
            }
            return Response(status: .init(code: answered))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            guard let port = client.port else { throw TestProviderError("no port") }
            try await body("http://127.0.0.1:\(port)/hook")
        }
    }

    /// Waits (up to `seconds`) until `condition` holds.
    func wait(seconds: Double, until condition: (WebhookReceiver) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition(self)
    }
}
