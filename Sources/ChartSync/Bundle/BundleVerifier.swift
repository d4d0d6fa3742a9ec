import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import enum Crypto.Curve25519
import struct Crypto.SHA256
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
    /// What the extraction did to the site directory, when extracted.
    public var installation: SiteInstallation?
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
    /// The destination's parent directory does not exist.
    case missingParent(path: String, parent: String)
    /// The destination is not a directory.
    case notASite(path: String, what: String)
    /// The destination holds files and was not made by chartsync (no `.chartsync/installed.json`).
    case foreignDestination(path: String, entries: [String], count: Int)
    /// The destination's `.chartsync` record cannot be read or does not match its manifest.
    case damagedSite(path: String, message: String)
    /// The bundle is an older delivery of the installed one.
    case rollback(path: String, installed: InstalledDelivery, offered: InstalledDelivery)
    /// The bundle has the installed sequence number but another manifest.
    case sequenceReused(path: String, installed: InstalledDelivery, offered: InstalledDelivery)
    /// The bundle is another delivery than the installed one.
    case otherDelivery(path: String, installed: InstalledDelivery, offered: InstalledDelivery)
    /// The installed site holds files its delivery did not write.
    case siteAdditions(path: String, files: [String])
    /// The manifest names a path chartsync keeps for itself in a site.
    case reservedPath(bundle: String, path: String)
    /// The bundle's image store (`images/`) is not complete and consistent: a blob whose digest is
    /// not its name, a blob an image needs that is not in the bundle, index.json against images.lock.
    case imageStore(bundle: String, problems: [String])
    /// A delta whose base is not what the site has installed (nil: nothing installed).
    case wrongBase(path: String, base: BundleManifest.Base, installed: InstalledDelivery?)
    /// A file a delta takes from the installed base is missing or not what the base's manifest says.
    case baseDamaged(path: String, file: String, message: String)
    /// The run was interrupted; nothing was changed.
    case interrupted

    public var kind: FailureKind {
        switch self {
        case .notFound, .fileSystem: return .io
        case .badParts, .archive, .manifest, .sidecarMismatch, .rollback, .sequenceReused, .reservedPath, .imageStore,
             .wrongBase, .baseDamaged:
            return .verification
        case .missingParent, .notASite, .foreignDestination, .damagedSite, .otherDelivery, .siteAdditions: return .input
        case .interrupted: return .interrupted
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
        case .missingParent(let path, let parent):
            return "\(path): its parent directory \(parent) does not exist; create it first (chartsync creates only the site directory itself)"
        case .notASite(let path, let what):
            return "\(path) is \(what), not a directory; not replacing it"
        case .foreignDestination(let path, let entries, let count):
            let shown = entries.joined(separator: ", ") + (count > entries.count ? ", ... (\(count) entries)" : "")
            return "\(path) is not empty and is not a chartsync site (no \(SiteDirectory.record)): it holds \(shown); "
                + "extract into a new or empty directory (chartsync never replaces a directory it did not create)"
        case .damagedSite(let path, let message):
            return "\(path) is marked as a chartsync site but its record is damaged: \(message); not replacing it"
        case .rollback(let path, let installed, let offered):
            return "\(path) has \(Self.describe(installed)) installed; this bundle is \(Self.describe(offered)), an older delivery: "
                + "refusing to roll the site back (--allow-downgrade to do it on purpose)"
        case .sequenceReused(let path, let installed, let offered):
            return "\(path) has \(Self.describe(installed)) installed (manifest \(installed.manifest.prefixed)); this bundle is also "
                + "#\(offered.sequence) but its manifest is \(offered.manifest.prefixed): two different deliveries under one number "
                + "(--allow-downgrade to install it anyway)"
        case .otherDelivery(let path, let installed, let offered):
            return "\(path) has \(Self.describe(installed)) installed; this bundle is \(Self.describe(offered)), another delivery "
                + "(--replace to replace it)"
        case .siteAdditions(let path, let files):
            let shown = files.prefix(5).joined(separator: ", ") + (files.count > 5 ? ", ... (\(files.count) files)" : "")
            return "\(path) holds files its delivery did not write: \(shown); a delivery replaces its directory whole, "
                + "so move them beside \(path) (nothing was changed)"
        case .reservedPath(let bundle, let path):
            return "\(bundle): the manifest lists \(path), a path chartsync keeps for itself in a site"
        case .imageStore(let bundle, let problems):
            return "\(bundle): the image store is not complete and consistent (nothing was extracted):\n  "
                + problems.joined(separator: "\n  ")
        case let .wrongBase(path, base, installed):
            let wanted = "delivery \"\(base.name)\" #\(base.sequence) (manifest \(base.manifest.prefixed))"
            guard let installed else {
                return "this bundle is a delta for \(wanted), but \(path) holds no delivery; extract the full bundle first (nothing was changed)"
            }
            return "this bundle is a delta for \(wanted), but \(path) has \(Self.describe(installed)) (manifest \(installed.manifest.prefixed)); "
                + "a delta applies only onto its base: use a delta made for this site, or the full bundle (nothing was changed)"
        case let .baseDamaged(path, file, message):
            return "\(path)/\(file), which the delta takes from the installed delivery, \(message); the site is not what it was "
                + "installed as: extract the full bundle (nothing was changed)"
        case .interrupted:
            return "interrupted; nothing was changed"
        }
    }

    private static func describe(_ delivery: InstalledDelivery) -> String {
        "delivery \"\(delivery.name)\" #\(delivery.sequence)"
    }
}

/// Proves a bundle (every part, the signature when a trusted key is given, every entry's size
/// and SHA-256) and unpacks it: into a fresh staging directory next to the destination, renamed
/// into place only when everything is proven, with a ready `index.yaml` over the vendored charts.
public struct BundleVerifier: Sendable {
    /// Set it (from a signal handler) to stop; what the run created is removed, nothing changes.
    public let cancellation: Cancellation

    /// Creates a verifier.
    public init(cancellation: Cancellation = Cancellation()) {
        self.cancellation = cancellation
    }

    /// The bundle's files in order: `FILE`, or `FILE.000`, `FILE.001`, ... (given `FILE`, `FILE.000`,
    /// or the split bundle's `FILE.parts`).
    public static func parts(of path: String) throws(VerifyError) -> (base: String, parts: [String]) {
        var base = path
        if path.hasSuffix(".000") { base = String(path.dropLast(4)) }
        if path.hasSuffix(".parts"), case let named = String(path.dropLast(6)), FileSystem.isRegularFile(named + ".000") {
            return try parts(of: named + ".000")
        }
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

    /// What a site directory has installed: the record, the manifest, and the manifest's bytes as
    /// the site keeps them (proven against the record) — what `bundle --base` takes to pack a
    /// delta for this site.
    public func installed(at site: String) throws -> (delivery: InstalledDelivery, manifest: BundleManifest, bytes: [UInt8]) {
        let path = site.hasSuffix("/") && site.count > 1 ? String(site.dropLast()) : site
        guard case .installed(let delivery, let manifest) = try SiteDirectory.state(path) else {
            throw VerifyError.notASite(path: path, what: "a directory without a chartsync delivery (no \(SiteDirectory.record))")
        }
        // state() proved these bytes against the record just before.
        let bytes = try FileSystem.readFile(path + "/" + SiteDirectory.manifest)
        return (delivery, manifest, bytes)
    }

    /// Proves the bundle and, when `extractTo` is given, installs its payload there: only into a
    /// missing or empty directory or a chartsync site (`.chartsync/installed.json`) whose
    /// installed delivery `policy` lets this one replace; the same delivery again changes nothing.
    public func verify(_ path: String, trustedKey: String?, extractTo: String?,
                       policy: InstallPolicy = InstallPolicy()) throws -> BundleVerification {
        let bundle = try open(path, trustedKey: trustedKey)
        let (base, parts, reader, header, manifest, hasStore) = (bundle.base, bundle.parts, bundle.reader, bundle.header,
                                                                 bundle.manifest, bundle.hasStore)
        let trusted: Bool = bundle.signatureVerified
        // What the site records: for a delta, the full delivery it installs (see DeltaBase).
        let installedBytes = DeltaBase.installedManifest(bytes: header.manifest, manifest: manifest)
        let offered = InstalledDelivery(name: manifest.name, sequence: manifest.sequence,
                                        manifest: Digest(bytes: SHA256.hash(data: installedBytes)),
                                        signer: header.signature.flatMap(SigningKey.signer(of:)))

        // The site is read, and the delivery admitted, before anything is written.
        let destination = extractTo.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        var site: (state: SiteDirectory.State, install: Bool, lock: DirectoryLock)?
        if let destination {
            if FileSystem.isSymlink(destination) {
                throw VerifyError.fileSystem(FileSystemError(path: destination, message: "is a symbolic link; not replacing it"))
            }
            let parent = FileSystem.parent(of: destination)
            guard FileSystem.isDirectory(parent) else { throw VerifyError.missingParent(path: destination, parent: parent) }
            // Under the lock: no other extraction beside it reads or writes meanwhile.
            let lock = try Self.lock(parent)
            Self.removeStaleStaging(for: destination)
            let state = try SiteDirectory.state(destination)
            if let base = manifest.base {
                // A delta goes only onto its own base (or finds itself installed already).
                var installed: InstalledDelivery?
                if case .installed(let record, _) = state { installed = record }
                if installed?.manifest != base.manifest && installed?.manifest != offered.manifest {
                    throw VerifyError.wrongBase(path: destination, base: base, installed: installed)
                }
            }
            site = (state, try SiteDirectory.admit(offered, into: destination, state: state, policy: policy), lock)
        }
        defer { withExtendedLifetime(site?.lock) {} }

        let expected = bundle.expected
        guard let destination, let site, site.install else {
            // Without a destination, or for a delivery installed already, every byte is proven
            // and nothing is written. A delta's store can be checked whole only with its base.
            try prove(bundle, checkingStore: manifest.base == nil)
            var verification = BundleVerification(manifest: manifest, signer: offered.signer, signatureVerified: trusted,
                                                   parts: parts, extractedTo: extractTo == nil ? nil : destination)
            if case .installed(let installed, _)? = site?.state {
                verification.installation = SiteInstallation(previous: installed, installed: installed,
                                                             changes: ChartChanges(from: manifest.charts, to: manifest.charts),
                                                             alreadyInstalled: true)
            }
            return verification
        }

        // A fresh staging directory next to the destination (same file system, so rename works).
        let stagingParent = try FileSystem.makeTemporaryDirectory(
            in: FileSystem.parent(of: destination), prefix: Self.stagingPrefix(for: destination))
        defer { FileSystem.removeTree(stagingParent) }
        let staging = stagingParent + "/tree"
        try streamed(base: base, parts: parts) { () throws(ArchiveError) in try reader.extract(into: staging, expected: expected) }
        if manifest.base != nil, case .installed(_, let installedManifest) = site.state {
            try Self.takeFromBase(manifest, site: destination, installed: installedManifest, staging: staging,
                                  cancellation: cancellation)
        }
        if hasStore { try Self.checkStore(manifest, reader: reader, staging: staging, bundle: parts[0]) }
        var verification = BundleVerification(manifest: manifest, signer: offered.signer, signatureVerified: trusted,
                                              parts: parts, extractedTo: destination)
        var previous: (InstalledDelivery, BundleManifest)?
        if case .installed(let installed, let manifest) = site.state { previous = (installed, manifest) }
        if FileSystem.isDirectory(staging + "/charts/external") {
            try RepositoryIndexer().index(directory: staging + "/charts/external", baseURL: "charts/external/",
                                          output: staging + "/index.yaml")
        }
        try SiteDirectory.mark(staging, installed: offered, manifest: installedBytes)
        guard !cancellation.isCancelled else { throw VerifyError.interrupted }
        try FileSystem.replaceDirectory(destination, with: staging, scratch: stagingParent)
        verification.installation = SiteInstallation(
            previous: previous?.0, installed: offered, changes: ChartChanges(from: previous?.1.charts, to: manifest.charts),
            alreadyInstalled: false)
        return verification
    }

    /// A bundle opened for one streaming pass: its parts found (and `FILE.parts` read), its
    /// MANIFEST read, its signature checked when a trusted key is given, the manifest's paths and
    /// image store names checked; nothing of the payload read yet.
    struct OpenedBundle {
        let base: String
        let parts: [String]
        let reader: BundleArchiveReader
        let header: (manifest: [UInt8], signature: [UInt8]?)
        let manifest: BundleManifest
        /// Whether the bundle carries an image store (`images/`); its retention is then set.
        let hasStore: Bool
        let signatureVerified: Bool
        /// Every payload file as MANIFEST lists it (a delta's: only those it carries).
        var expected: [BundleExpectedFile] {
            manifest.carried.map { BundleExpectedFile(path: $0.path, size: $0.size, sha256: $0.sha256, executable: $0.executable) }
        }
    }

    /// Opens the bundle at `path` (the file, `FILE.000`) for a pass: what `verify` checks before
    /// the payload, the same for `push BUNDLE`.
    func open(_ path: String, trustedKey: String?) throws -> OpenedBundle {
        var trusted: Curve25519.Signing.PublicKey?
        if let trustedKey { trusted = try SigningKey.loadPublic(trustedKey) }
        let (base, found) = try BundleVerifier.parts(of: path)
        let expectedParts = try partsFile(base: base, parts: found)
        let parts = expectedParts?.map(\.file) ?? found
        let reader: BundleArchiveReader
        let header: (manifest: [UInt8], signature: [UInt8]?)
        do {
            reader = try BundleArchiveReader(parts: parts, expectedParts: expectedParts, limits: BundleLimits())
            reader.cancellation = cancellation
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
        for file in manifest.files where SiteDirectory.own.contains(file.path) || file.path == SiteDirectory.mark
            || file.path.hasPrefix(SiteDirectory.mark + "/") {
            throw VerifyError.reservedPath(bundle: parts[0], path: file.path)
        }
        let hasStore = try Self.checkStoreNames(manifest, bundle: parts[0])
        if hasStore { reader.retain = Self.storeRetention }
        return OpenedBundle(base: base, parts: parts, reader: reader, header: header, manifest: manifest, hasStore: hasStore,
                            signatureVerified: trusted != nil)
    }

    /// Proves every byte of an opened bundle without writing it (`consumer` receives the entries
    /// it asks for as they stream), then the sidecar and, with `checkingStore`, the image store's
    /// closure over the manifests kept in memory.
    func prove(_ bundle: OpenedBundle, consumer: BundleEntryConsumer? = nil, checkingStore: Bool = true) throws {
        let expected = bundle.expected
        try streamed(base: bundle.base, parts: bundle.parts) { () throws(ArchiveError) in
            try bundle.reader.prove(expected: expected, consumer: consumer)
        }
        if bundle.hasStore && checkingStore {
            try Self.checkStore(bundle.manifest, reader: bundle.reader, staging: nil, bundle: bundle.parts[0])
        }
    }

    // MARK: - Deltas

    /// Puts into `staging` every file of the delta's manifest that the bundle does not carry,
    /// from the installed site: a file of the installed delivery with the same content, proven
    /// against its SHA-256 and size first (a changed or missing one refuses the delta), then
    /// hard-linked (copied when the mode differs or a link is not possible). The installed site
    /// is only read.
    static func takeFromBase(_ manifest: BundleManifest, site: String, installed: BundleManifest, staging: String,
                             cancellation: Cancellation) throws(VerifyError) {
        let sources = Dictionary(installed.files.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
        let wanted = manifest.files.filter(\.inBase)
        let proofs = WorkerPool.map(wanted, threads: WorkerPool.processorCount) { file -> Result<String, VerifyError> in
            guard !cancellation.isCancelled else { return .failure(.interrupted) }
            guard let source = sources[file.sha256] else {
                return .failure(.baseDamaged(path: site, file: file.path,
                                             message: "has no file with its content (\(file.sha256.prefixed)) in the installed delivery's manifest"))
            }
            let path = site + "/" + source.path
            guard FileSystem.isRegularFile(path), !FileSystem.isSymlink(path) else {
                return .failure(.baseDamaged(path: site, file: source.path, message: "is missing or not a regular file"))
            }
            do throws(FileSystemError) {
                let (digest, size) = try FileSystem.sha256(ofFile: path)
                guard digest == file.sha256, size == file.size else {
                    return .failure(.baseDamaged(path: site, file: source.path,
                                                 message: "is \(digest.prefixed) (\(size) bytes), not \(file.sha256.prefixed) (\(file.size) bytes)"))
                }
            } catch {
                return .failure(.fileSystem(error))
            }
            return .success(path)
        }
        // Each installed file is linked at most once: two delivered paths with the same content
        // stay two files, as a full extraction writes them.
        var linked = Set<String>()
        for (file, proof) in zip(wanted, proofs) {
            guard !cancellation.isCancelled else { throw .interrupted }
            let source: String
            switch proof {
            case .success(let path): source = path
            case .failure(let error): throw error
            }
            let target = staging + "/" + file.path
            do {
                try FileSystem.makeDirectories(FileSystem.parent(of: target))
                if !linked.contains(source), FileSystem.isExecutable(source) == file.executable,
                   linkat(AT_FDCWD, source, AT_FDCWD, target, 0) == 0 {
                    linked.insert(source)
                    continue
                }
                try FileSystem.copyFile(source, to: target, mode: file.executable ? 0o755 : 0o644)
                // The copy is what goes in place: prove it too.
                let (digest, size) = try FileSystem.sha256(ofFile: target)
                guard digest == file.sha256, size == file.size else {
                    throw VerifyError.baseDamaged(path: site, file: file.path, message: "changed while it was being copied")
                }
            } catch let error as VerifyError {
                throw error
            } catch let error as FileSystemError {
                throw .fileSystem(error)
            } catch {
                throw .fileSystem(FileSystemError(path: target, message: "\(error)"))
            }
        }
    }

    // MARK: - The image store

    /// What is kept in memory while the payload streams, for the store's closure: index.json and
    /// images.lock, and the blobs small enough to be manifests whose bytes are JSON (manifests,
    /// indexes, configs). Blob entries are sorted before index.json, so which blobs are manifests
    /// is known only at the end; keeping the JSON-looking small ones (a few KiB each, bounded by
    /// the reader's budget) avoids a second pass over the bundle.
    static let storeRetention: @Sendable (String, Int64) -> BundleArchiveReader.Retention? = { path, size in
        if path == "images/index.json" || path == "images.lock" { return size <= RegistryClient.manifestSizeLimit ? .always : nil }
        if path.hasPrefix("images/blobs/sha256/") && size <= RegistryClient.manifestSizeLimit { return .json }
        return nil
    }

    /// Checks the store's files as MANIFEST lists them, before a byte is read: only `oci-layout`,
    /// `index.json` and `blobs/sha256/<hex>` whose listed SHA-256 is its name (so proving an entry
    /// against MANIFEST proves the blob against its digest). Whether the bundle carries a store.
    static func checkStoreNames(_ manifest: BundleManifest, bundle: String) throws(VerifyError) -> Bool {
        let prefix = ImageStoreCheck.directory + "/"
        let files = manifest.files.filter { $0.path.hasPrefix(prefix) }
        guard !files.isEmpty || !manifest.storedImages.isEmpty else { return false }
        var problems: [String] = []
        for file in files {
            let relative = String(file.path.dropFirst(prefix.count))
            if relative == "oci-layout" || relative == "index.json" { continue }
            guard let digest = ImageLayout.digest(ofBlobPath: relative) else {
                problems.append("\(file.path): not a file of an image layout (oci-layout, index.json, blobs/sha256/<hex>)")
                continue
            }
            if file.sha256.prefixed != digest {
                problems.append("\(file.path): MANIFEST lists it with sha256 \(file.sha256.hex): a blob's SHA-256 must be its name")
            }
        }
        let paths = Set(files.map(\.path))
        for required in ["images/oci-layout", "images/index.json"] where !paths.contains(required) {
            problems.append("\(required): missing; the bundle carries images but not their layout's \(FileSystem.baseName(required))")
        }
        if !problems.isEmpty { throw .imageStore(bundle: bundle, problems: problems) }
        return true
    }

    /// After the payload was proven: index.json's images need exactly the blobs the bundle carries
    /// (the closure walked over the manifests kept in memory, or read from the proven staging tree
    /// when the budget was spent), index.json names exactly the images of the bundle's images.lock,
    /// and MANIFEST's `storedImages` (what `inspect` shows) is what the store holds.
    static func checkStore(_ manifest: BundleManifest, reader: BundleArchiveReader, staging: String?,
                           bundle: String) throws(VerifyError) {
        let retained = reader.retained
        if reader.retentionOverflowed && staging == nil {
            throw .imageStore(bundle: bundle, problems: [
                "the image manifests exceed \(reader.retainBudget >> 20) MiB, more than verify keeps in memory without a destination; "
                    + "verify with --extract DIR (the manifests are then read from the proven files)"])
        }
        let stagedLayout = staging.map { ImageLayout(root: $0 + "/" + ImageStoreCheck.directory) }
        func file(_ path: String) -> [UInt8]? {
            if let bytes = retained[path] { return bytes }
            guard let staging else { return nil }
            return try? FileSystem.readFile(staging + "/" + path, limit: Int(RegistryClient.manifestSizeLimit))
        }
        guard let indexBytes = file("images/index.json") else {
            throw .imageStore(bundle: bundle, problems: ["images/index.json: larger than an index may be"])
        }
        let entries: [ImageLayout.Entry]
        do {
            entries = try ImageLayout.parseIndex(indexBytes, source: "images/index.json")
        } catch {
            throw .imageStore(bundle: bundle, problems: [error.description])
        }
        var lock: ImagesManifest?
        if manifest.files.contains(where: { $0.path == "images.lock" }) {
            guard let bytes = file("images.lock") else {
                throw .imageStore(bundle: bundle, problems: ["images.lock: larger than verify reads"])
            }
            do throws(YAMLError) {
                lock = try ImagesManifestCoding.parse(bytes, source: "images.lock")
            } catch {
                throw .imageStore(bundle: bundle, problems: ["images.lock: line \(error.line): \(error.message)"])
            }
        }
        var files: [String: BundleManifest.File] = [:]
        var stored: Set<String> = []
        for entry in manifest.files {
            files[entry.path] = entry
            if entry.path.hasPrefix("images/"), let digest = ImageLayout.digest(ofBlobPath: String(entry.path.dropFirst(7))) {
                stored.insert(digest)
            }
        }
        func read(_ digest: String, _ size: Int64) -> [UInt8]? {
            retained[ImageStoreCheck.blobPath(digest)] ?? stagedLayout?.readManifest(digest, size: size)
        }
        let needs = ImageStoreCheck.needs(entries: entries, read: read, present: { files[ImageStoreCheck.blobPath($0)] != nil })
        var problems = ImageStoreCheck.lockProblems(entries: entries, lock: lock) + needs.problems
        problems += ImageStoreCheck.contents(needs.blobs, reported: needs.problems) { digest in
            files[ImageStoreCheck.blobPath(digest)].map { (sha256: $0.sha256, size: $0.size) }
        }
        problems += ImageStoreCheck.unneeded(stored: stored, blobs: needs.blobs)
        var messages = problems.map(\.description)
        if problems.isEmpty {
            let summaries = ImageStoreCheck.summaries(entries: entries, blobs: needs.blobs, read: read)
            if summaries != manifest.storedImages {
                messages.append("MANIFEST's storedImages (" + manifest.storedImages.map(\.reference).joined(separator: ", ")
                                + ") is not what images/index.json holds (" + summaries.map(\.reference).joined(separator: ", ") + ")")
            }
        }
        if !messages.isEmpty { throw .imageStore(bundle: bundle, problems: messages) }
    }

    /// Reads the payload through `body` (proving or extracting it), then checks a single-file
    /// bundle's digest (`body`'s answer; nil for a bundle in parts) against its `.sha256` sidecar.
    private func streamed(base: String, parts: [String], _ body: () throws(ArchiveError) -> Digest?) throws {
        let digest: Digest?
        do {
            digest = try body()
        } catch .interrupted {
            throw VerifyError.interrupted
        } catch {
            throw VerifyError.archive(error)
        }
        if parts.count == 1, let digest { try checkSidecar(base: base, digest: digest) }
    }

    /// The prefix of the staging directories beside `destination`.
    private static func stagingPrefix(for destination: String) -> String {
        "." + FileSystem.baseName(destination) + ".chartsync-staging"
    }

    /// Staging directories a killed run left beside `destination` (the lock is held: none is live).
    private static func removeStaleStaging(for destination: String) {
        let parent = FileSystem.parent(of: destination)
        let prefix = stagingPrefix(for: destination) + "-"
        for name in (try? FileSystem.listDirectory(parent)) ?? [] where name.hasPrefix(prefix) {
            FileSystem.removeTree(parent + "/" + name)
        }
    }

    /// The lock that keeps two extractions beside each other from touching each other's staging.
    private static func lock(_ directory: String) throws(VerifyError) -> DirectoryLock {
        do {
            return try DirectoryLock(directory)
        } catch {
            switch error {
            case .locked(let path):
                throw .fileSystem(FileSystemError(path: path, message: "is locked: another chartsync is extracting here"))
            case .fileSystem(let failure): throw .fileSystem(failure)
            }
        }
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
        let listed = expected.map(\.file)
        let absent = listed.filter { !FileSystem.isRegularFile($0) }
        if !absent.isEmpty {
            throw VerifyError.notFound("\(path) lists \(listed.count) parts; missing: " + absent.joined(separator: ", "))
        }
        let extra = Self.numberedParts(base).filter { !listed.contains($0) }
        if !extra.isEmpty {
            throw VerifyError.badParts("\(path) lists \(listed.count) parts, but " + extra.joined(separator: ", ")
                + (extra.count == 1 ? " is" : " are") + " there too: not a part of this bundle (a stray file, or a parts file that lost lines)")
        }
        return expected
    }

    /// Every `BASE.NNN` beside the bundle, in order.
    private static func numberedParts(_ base: String) -> [String] {
        let name = FileSystem.baseName(base)
        let directory = FileSystem.parent(of: base)
        return ((try? FileSystem.listDirectory(directory)) ?? []).filter { entry in
            entry.count == name.count + 4 && entry.hasPrefix(name + ".") && entry.suffix(3).allSatisfy(\.isNumber)
        }.map { directory + "/" + $0 }
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
