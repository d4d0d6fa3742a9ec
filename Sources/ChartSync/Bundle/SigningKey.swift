import ChartSyncBasics
import ChartSyncCore
import enum Crypto.Curve25519
import struct Crypto.SHA256
import Foundation

/// Why a key or signature could not be used.
public struct SigningError: ChartSyncFailure, CustomStringConvertible {
    /// What went wrong, naming the file.
    public let message: String
    /// Bad signatures are verification failures; unreadable keys are input errors.
    public let kind: FailureKind

    public var description: String { message }
}

/// Ed25519 keys for signing bundle manifests, stored as one line of text:
/// `chartsync-ed25519-private-key <base64>` (file mode 0600) and `chartsync-ed25519-public-key <base64>`.
/// The key that verifies comes from the verifying machine, never from the bundle.
public enum SigningKey {
    static let privateTag = "chartsync-ed25519-private-key"
    static let publicTag = "chartsync-ed25519-public-key"
    static let signatureTag = "chartsync-ed25519-signature"

    /// Writes a new key pair: `path` (private, 0600) and `path.pub`; refuses to overwrite.
    public static func generate(path: String) throws -> (publicKeyPath: String, fingerprint: String) {
        let key = Curve25519.Signing.PrivateKey()
        let publicPath = path + ".pub"
        for p in [path, publicPath] where FileSystem.exists(p) {
            throw SigningError(message: "\(p) already exists; not overwriting a key", kind: .input)
        }
        try FileSystem.writeAtomically(Array("\(privateTag) \(key.rawRepresentation.base64EncodedString())\n".utf8), to: path, mode: 0o600)
        try FileSystem.writeAtomically(Array("\(publicTag) \(key.publicKey.rawRepresentation.base64EncodedString())\n".utf8), to: publicPath)
        return (publicPath, fingerprint(key.publicKey))
    }

    /// Reads a private key file.
    public static func loadPrivate(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        if let permissions = FileSystem.permissions(path), permissions & 0o077 != 0 {
            throw SigningError(message: "\(path): a private key must not be readable by others (chmod 600)", kind: .input)
        }
        let raw = try read(path, tag: privateTag)
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw SigningError(message: "\(path): not an Ed25519 private key", kind: .input)
        }
        return key
    }

    /// Reads a public key file.
    public static func loadPublic(_ path: String) throws -> Curve25519.Signing.PublicKey {
        let raw = try read(path, tag: publicTag)
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw SigningError(message: "\(path): not an Ed25519 public key", kind: .input)
        }
        return key
    }

    /// `SHA256:<base64>` of the public key, as ssh shows fingerprints.
    public static func fingerprint(_ key: Curve25519.Signing.PublicKey) -> String {
        "SHA256:" + Data(SHA256.hash(data: key.rawRepresentation)).base64EncodedString()
    }

    /// The signature entry for `manifest`: the signer's fingerprint and the Ed25519 signature.
    public static func sign(_ manifest: [UInt8], with key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let signature = try key.signature(for: manifest)
        return Array("\(signatureTag) \(fingerprint(key.publicKey)) \(signature.base64EncodedString())\n".utf8)
    }

    /// The fingerprint named in a signature entry (nil when it is not one).
    public static func signer(of signature: [UInt8]) -> String? {
        parseSignature(signature)?.fingerprint
    }

    /// Checks `signature` over `manifest` with the trusted key; throws a verification failure otherwise.
    public static func verify(_ manifest: [UInt8], signature: [UInt8]?, trusted: Curve25519.Signing.PublicKey, bundle: String) throws {
        guard let signature else {
            throw SigningError(message: "\(bundle) is not signed, and a trusted key was given", kind: .verification)
        }
        guard let parsed = parseSignature(signature) else {
            throw SigningError(message: "\(bundle): the signature entry is malformed", kind: .verification)
        }
        let expected = fingerprint(trusted)
        guard parsed.fingerprint == expected else {
            throw SigningError(message: "\(bundle) is signed by \(parsed.fingerprint), not by the trusted key \(expected)", kind: .verification)
        }
        guard trusted.isValidSignature(parsed.signature, for: manifest) else {
            throw SigningError(message: "\(bundle): the manifest's signature is not valid for the trusted key \(expected)", kind: .verification)
        }
    }

    private static func parseSignature(_ bytes: [UInt8]) -> (fingerprint: String, signature: Data)? {
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard parts.count == 3, parts[0] == signatureTag, let signature = Data(base64Encoded: String(parts[2])) else { return nil }
        return (String(parts[1]), signature)
    }

    private static func read(_ path: String, tag: String) throws -> Data {
        let text = String(decoding: try FileSystem.readFile(path, limit: 4096), as: UTF8.self)
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, parts[0] == tag, let raw = Data(base64Encoded: String(parts[1])) else {
            throw SigningError(message: "\(path): not a chartsync key file (expected \"\(tag) <base64>\")", kind: .input)
        }
        return raw
    }
}
