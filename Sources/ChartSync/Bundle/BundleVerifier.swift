import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import enum Crypto.Curve25519
import Foundation

/// What a verified bundle holds.
public struct BundleVerification: Sendable {
    /// The manifest, proven.
    public let manifest: BundleManifest
    /// The signer's fingerprint, when the bundle is signed.
    public let signer: String?
    /// Whether the signature was checked against a trusted key.
    public let signatureVerified: Bool
    /// The files read (the bundle or its parts).
    public let parts: [String]
    /// Where the payload now is, when extracted.
    public let extractedTo: String?
}

/// Why a bundle was refused.
public enum VerifyError: ChartSyncFailure, CustomStringConvertible {
    /// No bundle at the path, or a part is missing.
    case notFound(String)
    /// The parts file or sidecar is malformed or disagrees.
    case badParts(String)
    /// The bundle's bytes or entries are not what they must be.
    case archive(ArchiveError)
    /// The manifest cannot be read.
    case manifest(YAMLError)
    /// The whole bundle's digest differs from its sidecar.
    case sidecarMismatch(file: String, expected: String, actual: String)
    /// A file operation failed.
    case fileSystem(FileSystemError)

    public var kind: FailureKind {
        switch self {
        case .notFound, .fileSystem: return .io
        case .badParts, .archive, .manifest, .sidecarMismatch: return .verification
        }
    }

    public var description: String {
        switch self {
        case .notFound(let message), .badParts(let message): return message
        case .archive(let error): return error.description
        case .manifest(let error): return "manifest: line \(error.line): \(error.message)"
        case .sidecarMismatch(let file, let expected, let actual):
            return "\(file) is corrupt: its .sha256 sidecar says \(expected), the bytes hash to \(actual)"
        case .fileSystem(let error): return error.description
        }
    }
}

/// Proves a bundle (every part, the signature when a trusted key is given, every entry's size
/// and SHA-256) and unpacks it: into a fresh staging directory next to the destination, renamed
/// into place only when everything is proven, with a ready `index.yaml` over the vendored charts.
public struct BundleVerifier: Sendable {
    /// Creates a verifier.
    public init() {}

    /// The bundle's files in order: `FILE`, or `FILE.000`, `FILE.001`, ... (given `FILE` or `FILE.000`).
    public static func parts(of path: String) throws(VerifyError) -> (base: String, parts: [String]) {
        var base = path
        if path.hasSuffix(".000") { base = String(path.dropLast(4)) }
        if !path.hasSuffix(".000") && FileSystem.isRegularFile(path) { return (path, [path]) }
        var parts: [String] = []
        while case let part = base + "." + String(format: "%03d", parts.count), FileSystem.isRegularFile(part) {
            parts.append(part)
        }
        guard !parts.isEmpty else { throw .notFound("\(path): no such bundle (nor \(base).000)") }
        return (base, parts)
    }

    /// Reads only the manifest (and signer) of a bundle, without touching the payload.
    public func inspect(_ path: String) throws -> (manifest: BundleManifest, signer: String?, parts: [String]) {
        let (_, parts) = try BundleVerifier.parts(of: path)
        let reader: BundleArchiveReader
        let header: (manifest: [UInt8], signature: [UInt8]?)
        do {
            reader = try BundleArchiveReader(parts: parts, expectedParts: nil, limits: BundleLimits())
            header = try reader.readManifest()
        } catch {
            throw VerifyError.archive(error)
        }
        let manifest: BundleManifest
        do {
            manifest = try BundleManifestCoding.parse(header.manifest, source: parts[0])
        } catch {
            throw VerifyError.manifest(error)
        }
        return (manifest, header.signature.flatMap(SigningKey.signer(of:)), parts)
    }

    /// Proves the bundle and, when `extractTo` is given, replaces that directory with its payload.
    public func verify(_ path: String, trustedKey: String?, extractTo: String?) throws -> BundleVerification {
        var trusted: Curve25519.Signing.PublicKey?
        if let trustedKey { trusted = try SigningKey.loadPublic(trustedKey) }
        let (base, parts) = try BundleVerifier.parts(of: path)
        let expectedParts = try partsFile(base: base, parts: parts)
        let reader: BundleArchiveReader
        let header: (manifest: [UInt8], signature: [UInt8]?)
        do {
            reader = try BundleArchiveReader(parts: parts, expectedParts: expectedParts, limits: BundleLimits())
            header = try reader.readManifest()
        } catch {
            throw VerifyError.archive(error)
        }
        if let trusted {
            try SigningKey.verify(header.manifest, signature: header.signature, trusted: trusted, bundle: parts[0])
        }
        let manifest: BundleManifest
        do {
            manifest = try BundleManifestCoding.parse(header.manifest, source: parts[0] + ": MANIFEST")
        } catch {
            throw VerifyError.manifest(error)
        }
        // A fresh staging directory next to the destination (same file system, so rename works).
        let destination = extractTo.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        let stagingParent: String
        if let destination {
            if FileSystem.isSymlink(destination) {
                throw VerifyError.fileSystem(FileSystemError(path: destination, message: "is a symbolic link; not replacing it"))
            }
            stagingParent = try FileSystem.makeTemporaryDirectory(
                in: FileSystem.parent(of: destination), prefix: "." + FileSystem.baseName(destination) + ".chartsync-staging")
        } else {
            stagingParent = try FileSystem.makeTemporaryDirectory(prefix: "chartsync-verify")
        }
        defer { FileSystem.removeTree(stagingParent) }
        let staging = stagingParent + "/tree"
        let streamDigest: Digest
        do {
            streamDigest = try reader.extract(into: staging, expected: manifest.files.map {
                BundleExpectedFile(path: $0.path, size: $0.size, sha256: $0.sha256, executable: $0.executable)
            })
        } catch {
            throw VerifyError.archive(error)
        }
        if parts.count == 1 { try checkSidecar(base: base, digest: streamDigest) }
        if let destination {
            if FileSystem.isDirectory(staging + "/charts/external") {
                try RepositoryIndexer().index(directory: staging + "/charts/external", baseURL: "charts/external/",
                                              output: staging + "/index.yaml")
            }
            try FileSystem.replaceDirectory(destination, with: staging, scratch: stagingParent)
        }
        return BundleVerification(manifest: manifest, signer: header.signature.flatMap(SigningKey.signer(of:)),
                                  signatureVerified: trusted != nil, parts: parts, extractedTo: destination)
    }

    /// `FILE.parts` for a split bundle: each part's size and SHA-256, checked as the parts stream.
    private func partsFile(base: String, parts: [String]) throws -> [BundlePart]? {
        let path = base + ".parts"
        guard parts.count > 1 || FileSystem.exists(path) else { return nil }
        guard FileSystem.isRegularFile(path) else {
            throw VerifyError.badParts("\(path) is missing: a split bundle needs its parts file to prove each part")
        }
        let list: BundlePartsList
        do {
            list = try BundleSidecarCoding.parseParts(try FileSystem.readFile(path, limit: 1 << 20), source: path)
        } catch let error as SidecarError {
            throw VerifyError.badParts(error.description)
        }
        let expected = list.parts.map {
            BundlePart(file: FileSystem.parent(of: base) + "/" + $0.name, size: $0.size, sha256: $0.sha256)
        }
        guard expected.count == parts.count else {
            let missing = expected.map(\.file).filter { !parts.contains($0) }
            throw VerifyError.notFound("\(path) lists \(expected.count) parts, found \(parts.count)"
                + (missing.isEmpty ? "" : "; missing: " + missing.joined(separator: ", ")))
        }
        return expected
    }

    private func checkSidecar(base: String, digest: Digest) throws {
        let path = base + ".sha256"
        guard FileSystem.isRegularFile(path) else { return }
        let list: ChecksumList
        do {
            list = try BundleSidecarCoding.parseChecksums(try FileSystem.readFile(path, limit: 1 << 20), source: path)
        } catch let error as SidecarError {
            throw VerifyError.badParts(error.description)
        }
        guard let expected = list.digest(of: FileSystem.baseName(base)) else { return }
        guard expected == digest else {
            throw VerifyError.sidecarMismatch(file: base, expected: expected.prefixed, actual: digest.prefixed)
        }
    }
}
