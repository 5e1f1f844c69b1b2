import CredlogEvents

/// Asks a piece's provider whether a credential works (its ``ValidationRequest``), before the
/// credential is accepted. Implemented over HTTP by `CredlogLifecycle`.
public protocol CredentialValidator: Sendable {
    /// Returns when the provider accepts `canonical` (the credential's checked JSON); throws
    /// ``DomainError/invalid(_:)`` with the provider's answer (secrets removed) when it refuses.
    func validate(_ canonical: [UInt8], for piece: PieceDefinition) async throws
}
