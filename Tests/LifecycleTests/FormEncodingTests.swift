import CredlogLifecycle
import Foundation
import Testing

/// One percent-encoder for form bodies, consent URLs, validation queries and the page's links.
@Suite("Form encoding")
struct FormEncodingTests {
    @Test(arguments: [
        ("plain-Text_1.0~", "plain-Text_1.0~"),
        ("a b&c=d+e/f?g#h%", "a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25"),
        // Letters outside ASCII are bytes to encode, not "alphanumerics" to keep.
        ("é日", "%C3%A9%E6%97%A5"),
        ("\"<'>\n", "%22%3C%27%3E%0A"),
    ])
    func everyByteOutsideTheUnreservedSetIsEncoded(text: String, encoded: String) {
        #expect(FormEncoding.escaped(text) == encoded)
        #expect(FormEncoding.escaped(text).removingPercentEncoding == text)
    }

    @Test func pairsWithoutAValueAreLeftOut() {
        #expect(FormEncoding.encode([("grant_type", "refresh_token"), ("code", nil), ("redirect_uri", "https://x.test/cb?a=1")])
                == "grant_type=refresh_token&redirect_uri=https%3A%2F%2Fx.test%2Fcb%3Fa%3D1")
    }
}
