import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where an outbound request would go, checked before anything is sent: an `http(s)` URL whose
/// host resolves only to public addresses (or, for test runs, only to loopback ones).
struct Destination: Sendable, Equatable {
    /// The URL's host, as written (brackets removed from an IPv6 literal).
    var host: String
    /// The address the request will be sent to (the first one the host resolved to).
    var address: String
    /// Whether the host is itself an IP address.
    var isLiteral: Bool

    /// Checks `url`: its scheme, its host, and every address the host resolves to.
    static func checked(_ url: String, loopbackOnly: Bool = false) async throws -> Destination {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty else {
            throw OutboundHTTP.RefusedDestination(description: "not an http(s) URL")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let literal = IPAddress(host)
        let addresses = if let literal { [literal] } else { try await resolve(host) }
        guard let first = addresses.first else {
            throw OutboundHTTP.RefusedDestination(description: "\(host) does not resolve to any address")
        }
        if loopbackOnly {
            if let refused = addresses.first(where: { !$0.isLoopback }) {
                throw OutboundHTTP.RefusedDestination(
                    description: "\(host) is \(refused.kind) (\(refused)): this credlog sends requests to loopback addresses only (CREDLOG_LOOPBACK_ONLY=1)")
            }
        } else if let refused = addresses.first(where: { !$0.isPublic }) {
            throw OutboundHTTP.RefusedDestination(
                description: "\(host) is \(refused.kind) (\(refused)): credlog sends requests to public addresses only "
                    + "unless the operator allows others (CREDLOG_ALLOW_PRIVATE_DESTINATIONS=1)")
        }
        return Destination(host: host, address: first.description, isLiteral: literal != nil)
    }

    /// Every address `host` resolves to (the system resolver, off the caller's thread).
    static func resolve(_ host: String) async throws -> [IPAddress] {
        guard host.utf8.count <= 253 else { throw OutboundHTTP.RefusedDestination(description: "the host name is too long") }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &list)
                guard status == 0, let list else {
                    continuation.resume(throwing: OutboundHTTP.Unreachable(description: "\(host) could not be resolved"))
                    return
                }
                defer { freeaddrinfo(list) }
                var addresses: [IPAddress] = []
                var entry: UnsafeMutablePointer<addrinfo>? = list
                while let current = entry {
                    if let address = IPAddress(current.pointee.ai_addr), !addresses.contains(address) { addresses.append(address) }
                    entry = current.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}

/// An IPv4 or IPv6 address, and what kind of network it belongs to.
struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 bytes.
    var bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
        } else {
            return nil
        }
    }

    init?(_ socketAddress: UnsafeMutablePointer<sockaddr>?) {
        guard let socketAddress else { return nil }
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            bytes = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
        case AF_INET6:
            bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
        default:
            return nil
        }
    }

    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address inside an IPv4-mapped or IPv4-compatible IPv6 one, or NAT64's well-known prefix.
    private var embeddedIPv4: [UInt8]? {
        guard bytes.count == 16 else { return bytes }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff { return Array(bytes[12...]) }
        if bytes[0..<12].allSatisfy({ $0 == 0 }), !(bytes[12...].allSatisfy { $0 == 0 }) { return Array(bytes[12...]) }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return Array(bytes[12...]) }
        return nil
    }

    /// What kind of address it is, for the refusal ("a loopback address"); "public" when none other.
    var kind: String {
        if let v4 = embeddedIPv4 { return Self.kind(ipv4: v4) }
        let b = bytes
        if b.allSatisfy({ $0 == 0 }) { return "the unspecified address" }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return "a loopback address" }
        if b[0] & 0xfe == 0xfc { return "a private (unique local) address" }
        if b[0] == 0xfe, b[1] & 0xc0 == 0x80 { return "a link-local address" }
        if b[0] == 0xfe, b[1] & 0xc0 == 0xc0 { return "a site-local address" }
        if b[0] == 0xff { return "a multicast address" }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return "a documentation address" }
        if b[0] == 0x20, b[1] == 0x02 { return "a 6to4 address" }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0, b[3] == 0 { return "a Teredo address" }
        return "public"
    }

    var isPublic: Bool { kind == "public" }
    var isLoopback: Bool { kind == "a loopback address" }

    private static func kind(ipv4 a: [UInt8]) -> String {
        switch (a[0], a[1]) {
        case (0, _): return "a 'this network' address"
        case (10, _), (172, 16...31), (192, 168): return "a private address"
        case (100, 64...127): return "a shared (carrier-grade NAT) address"
        case (127, _): return "a loopback address"
        case (169, 254): return "a link-local address (such as the cloud metadata service)"
        case (192, 0) where a[2] == 0 || a[2] == 2: return "a reserved address"
        case (198, 18...19): return "a benchmarking address"
        case (198, 51) where a[2] == 100, (203, 0) where a[2] == 113: return "a documentation address"
        case (224...239, _): return "a multicast address"
        case (240...255, _): return "a reserved address"
        default: return "public"
        }
    }
}
