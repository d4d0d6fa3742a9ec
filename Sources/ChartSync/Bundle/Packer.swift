import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import struct Crypto.SHA256
import Foundation

/// How to pack a bundle.
public struct PackOptions: Sendable {
    /// The bundle file to write (`FILE`, or `FILE.000`... with a split size).
    public var output: String
    /// zstd (default), gzip or none.
    public var compression: BundleCompression
    /// Cut the bundle into parts of this many bytes (e.g. 4 GiB - 1 for FAT32).
    public var splitSize: Int64?
    /// The bundle's name (defaults to the project folder's name).
    public var name: String?
    /// The delivery's sequence number.
    public var sequence: Int64
    /// Ed25519 private key file to sign the manifest with.
    public var signKey: String?
    /// Entry times (SOURCE_DATE_EPOCH), 0 when not given.
    public var mtime: Int64
    /// The chartsync version recorded in the manifest.
    public var chartsyncVersion: String
    /// Pack a delta against this base (a manifest a site exported, or the bundle it installed):
    /// only the files whose content the base lacks are carried.
    public var base: String?

    /// Creates options.
    public init(output: String, compression: BundleCompression = .zstd, splitSize: Int64? = nil, name: String? = nil,
                sequence: Int64 = 1, signKey: String? = nil, mtime: Int64 = 0, chartsyncVersion: String, base: String? = nil) {
        self.base = base
        self.output = output
        self.compression = compression
        self.splitSize = splitSize
        self.name = name
        self.sequence = sequence
        self.signKey = signKey
        self.mtime = mtime
        self.chartsyncVersion = chartsyncVersion
    }
}

/// What was packed.
public struct PackReport: Sendable {
    /// The manifest written into the bundle.
    public let manifest: BundleManifest
    /// The files written (one, or the parts).
    public let parts: [BundlePart]
    /// SHA-256 of the whole bundle stream.
    public let sha256: Digest
    /// The `sha256sum` sidecar written next to the bundle.
    public let sidecar: String
    /// The signer's fingerprint, when signed.
    public let signer: String?
}

/// Why a bundle was not written.
public enum PackError: ChartSyncFailure, CustomStringConvertible {
    /// A vendored chart does not match versions.lock.
    case notProven([String])
    /// images.lock is not what the vendored charts use.
    case imagesStale([String])
    /// versions.lock is missing or does not match the chart list.
    case lock(String)
    /// Something in the trees to pack is not a regular file or directory.
    case unsupported(path: String, what: String)
    /// A file changed while the bundle was being written (the bundle was removed).
    case changed(path: String)
    /// The image store (`images/`) is not what images.lock says, or a blob is missing or damaged.
    case imageStore([ImageStoreProblem])
    /// A file operation failed.
    case fileSystem(FileSystemError)
    /// The archive could not be written.
    case archive(ArchiveError)
    /// The run was interrupted; what it wrote was removed.
    case interrupted
    /// The base of a delta cannot be used.
    case base(String)

    public var kind: FailureKind {
        switch self {
        case .notProven, .imagesStale, .unsupported, .imageStore: return .verification
        case .lock, .base: return .input
        case .fileSystem, .archive, .changed: return .io
        case .interrupted: return .interrupted
        }
    }

    public var description: String {
        switch self {
        case .notProven(let problems): return "the vendored charts do not match versions.lock:\n  " + problems.joined(separator: "\n  ")
        case .imagesStale(let problems):
            return "images.lock is not current for the vendored charts (run chartsync images):\n  " + problems.joined(separator: "\n  ")
        case .lock(let message): return message
        case .imageStore(let problems):
            return "the image store is not what images.lock says (run chartsync images --pull):\n  "
                + problems.map(\.description).joined(separator: "\n  ")
        case .unsupported(let path, let what): return "\(path) is \(what); a bundle carries regular files only"
        case .changed(let path): return "\(path) changed while the bundle was being written; the bundle was removed, try again"
        case .fileSystem(let error): return error.description
        case .archive(let error): return error.description
        case .interrupted: return "interrupted; no bundle was written"
        case .base(let message): return message
        }
    }
}

/// Packs a project (chart list, versions.lock, charts/external, charts/custom, charts/patches,
/// the image store and the files `bundle.include` names) into one reproducible bundle, after
/// proving every vendored chart against versions.lock.
public struct Packer: Sendable {
    private let layout: ProjectLayout
    private let onEvent: ChartSyncEventHandler?
    /// Set it (from a signal handler) to stop; the parts written so far are removed.
    public let cancellation: Cancellation

    /// Creates a packer for a project.
    public init(layout: ProjectLayout, cancellation: Cancellation = Cancellation(), onEvent: ChartSyncEventHandler? = nil) {
        self.layout = layout
        self.cancellation = cancellation
        self.onEvent = onEvent
    }

    /// Writes the bundle, its parts file (when split) and its `.sha256` sidecar.
    public func pack(_ options: PackOptions) throws -> PackReport {
        let projectLock: DirectoryLock
        do {
            projectLock = try DirectoryLock(layout.root)
        } catch {
            switch error {
            case .locked(let path):
                throw PackError.fileSystem(FileSystemError(path: path, message: "is locked: another chartsync is working on it"))
            case .fileSystem(let failure): throw PackError.fileSystem(failure)
            }
        }
        defer { withExtendedLifetime(projectLock) {} }
        Self.removeStalePartials(of: options.output)
        let (list, lock) = try loadLock()
        // The image store's blobs are chosen (what index.json's images need) before the hashing
        // pass, which leaves them out: a blob's name is its SHA-256, and the writer proves its
        // bytes against that name while it packs them (each blob is read once).
        let store = try planStore()
        let files = try collect(blobs: store?.present ?? [], include: list.bundle.include,
                                values: ImageCollector(layout: layout).valuesFiles(list, lock: lock))
        try prove(lock, files: files)
        // images.lock travels with the charts only when it is what they say.
        let images = ImageCollector(layout: layout).lockFindings(list, lock: lock) ?? []
        if !images.isEmpty { throw PackError.imagesStale(images.map(\.description)) }
        var storedImages: [BundleManifest.StoredImage] = []
        if let store {
            // The blobs' sizes against their manifests' (their bytes are proven while writing).
            var known: [String: (sha256: Digest, size: Int64)] = [:]
            for file in files { known[file.path] = (file.sha256, file.size) }
            let problems = store.problems
                + ImageStoreCheck.contents(store.blobs, reported: store.problems) { known[ImageStoreCheck.blobPath($0)] }
            if !problems.isEmpty { throw try storeFailure(store, files: files) ?? PackError.imageStore(problems) }
            storedImages = store.summaries
        }
        var manifest = BundleManifest(
            name: options.name ?? String(layout.root.split(separator: "/").last ?? "bundle"),
            sequence: options.sequence, chartsyncVersion: options.chartsyncVersion,
            charts: lock.entries.map { BundleManifest.Chart(name: $0.name, version: $0.version, sha256: $0.sha256) },
            files: files.map { BundleManifest.File(path: $0.path, size: $0.size, sha256: $0.sha256, executable: $0.executable) },
            images: try ImageCollector(layout: layout).current()?.images.map(\.reference.description) ?? [],
            storedImages: storedImages)
        if let basePath = options.base {
            let base = try DeltaBase.load(basePath)
            if base.manifest.name == manifest.name && base.manifest.sequence >= manifest.sequence {
                throw PackError.base("\(basePath) is delivery \"\(base.manifest.name)\" #\(base.manifest.sequence); a delta on it needs a higher --sequence than \(manifest.sequence)")
            }
            // A file whose content the base holds (under any path) is taken from the site.
            let present = Set(base.manifest.files.map(\.sha256))
            manifest.files = manifest.files.map { var file = $0; file.inBase = present.contains(file.sha256); return file }
            manifest.base = BundleManifest.Base(manifest: base.digest, name: base.manifest.name, sequence: base.manifest.sequence)
        }
        let carried = Set(manifest.carried.map(\.path))
        let payloadFiles = files.filter { carried.contains($0.path) }
        // The blobs a delta leaves to the site are not written: they are proven here.
        let left = files.filter { $0.named && !carried.contains($0.path) }
        if let store, let damaged = zip(left, try hash(left.map(\.path))).first(where: { $0.sha256 != $1.sha256 }) {
            throw try storeFailure(store, files: files) ?? PackError.changed(path: layout.root + "/" + damaged.0.path)
        }
        let manifestBytes = Array(manifest.json.utf8)
        var signature: [UInt8]?
        var signer: String?
        if let keyPath = options.signKey {
            let key = try SigningKey.loadPrivate(keyPath)
            signature = try SigningKey.sign(manifestBytes, with: key)
            signer = SigningKey.fingerprint(key.publicKey)
        }
        var expected: [String: (size: Int64, sha256: Digest)] = [:]
        for f in payloadFiles { expected[f.path] = (f.size, f.sha256) }
        let result: BundleWriteResult
        do {
            result = try BundleArchiveWriter.write(
                to: options.output, manifest: manifestBytes, signature: signature,
                payload: payloadFiles.map { BundlePayloadFile(path: $0.path, source: layout.root + "/" + $0.path, executable: $0.executable) },
                expected: expected, compression: options.compression, mtime: options.mtime, splitSize: options.splitSize,
                sizeOnly: Set(payloadFiles.filter { !$0.named }.map(\.path)), cancellation: cancellation)
        } catch .interrupted {
            throw PackError.interrupted
        } catch {
            // The store's problems come first, as when every blob was hashed before writing: a blob
            // whose bytes are not its name, and every other damaged blob, with the images needing them.
            if let store, let failure = try storeFailure(store, files: files) { throw failure }
            if case .payloadMismatch(_, let path, _, _) = error { throw PackError.changed(path: layout.root + "/" + path) }
            throw PackError.archive(error)
        }
        // The files were hashed just before (the blobs while they were written); the writer checked
        // sizes. Any write since then changes a file's ctime or mtime: then the bundle is not what
        // the manifest says.
        for file in files where FileSystem.identity(layout.root + "/" + file.path) != file.identity {
            for part in result.parts { FileSystem.removeFile(part.file) }
            throw PackError.changed(path: layout.root + "/" + file.path)
        }
        let sidecar = options.output + ".sha256"
        var checksums = result.parts.map { ChecksumList.Line(sha256: $0.sha256, name: FileSystem.baseName($0.file)) }
        if options.splitSize != nil {
            let partsFile = options.output + ".parts"
            let parts = BundlePartsList(
                parts: result.parts.map { .init(name: FileSystem.baseName($0.file), size: $0.size, sha256: $0.sha256) },
                whole: result.sha256)
            let partsBytes = Array(BundleSidecarCoding.text(parts).utf8)
            try FileSystem.writeAtomically(partsBytes, to: partsFile)
            checksums.append(.init(sha256: Digest(bytes: SHA256.hash(data: partsBytes)), name: FileSystem.baseName(partsFile)))
        }
        try FileSystem.writeAtomically(Array(BundleSidecarCoding.text(ChecksumList(lines: checksums)).utf8), to: sidecar)
        return PackReport(manifest: manifest, parts: result.parts, sha256: result.sha256, sidecar: sidecar, signer: signer)
    }

    private func loadLock() throws -> (ChartList, Lockfile) {
        do {
            return try layout.currentLock()
        } catch let problem as ProjectLayout.LockProblem {
            throw PackError.lock(problem.message)
        }
    }

    /// Temporary parts a killed run left beside `output` (the project lock is held: none is live).
    private static func removeStalePartials(of output: String) {
        let directory = FileSystem.parent(of: output)
        let name = FileSystem.baseName(output)
        func isPartial(_ entry: String) -> Bool {
            guard entry.hasPrefix("." + name + ".") else { return false }
            let rest = entry.dropFirst(name.count + 2)
            if rest.hasPrefix("partial-") { return true }
            // `.NAME.NNN.partial-*`: a part of a split bundle.
            return rest.count > 12 && rest.prefix(3).allSatisfy(\.isNumber) && rest.dropFirst(3).hasPrefix(".partial-")
        }
        for entry in (try? FileSystem.listDirectory(directory)) ?? [] where isPartial(entry) {
            FileSystem.removeFile(directory + "/" + entry)
        }
    }

    /// A payload file: its path relative to the root, size, digest, mode.
    struct Collected {
        let path: String
        let size: Int64
        let sha256: Digest
        let executable: Bool
        let identity: FileSystem.Identity?
        /// Whether `sha256` is the file's name (an image blob: content-addressed), not yet proven
        /// against its bytes.
        var named = false
    }

    /// The image store as it will be bundled: the blobs index.json's images need that are there
    /// (relative paths), every blob they need, their summaries, and what is wrong so far (index.json
    /// against images.lock, manifests missing or damaged). Nil without a store (no `images/`, or
    /// an empty one).
    private struct StorePlan {
        let present: [String]
        let blobs: [ImageLayout.Blob]
        let summaries: [BundleManifest.StoredImage]
        let problems: [ImageStoreProblem]
    }

    private func planStore() throws -> StorePlan? {
        let root = layout.root + "/" + ImageStoreCheck.directory
        if FileSystem.isSymlink(root) { throw PackError.unsupported(path: root, what: "a symbolic link") }
        guard FileSystem.isDirectory(root), !((try? FileSystem.listDirectory(root)) ?? []).isEmpty else { return nil }
        let store = ImageLayout(root: root)
        for path in [store.layoutPath, store.indexPath] where !FileSystem.isRegularFile(path) || FileSystem.isSymlink(path) {
            let what = FileSystem.isSymlink(path) ? "a symbolic link" : FileSystem.exists(path) ? "not a regular file" : "missing"
            throw PackError.imageStore([ImageStoreProblem(.invalid, path: ImageStoreCheck.path(FileSystem.baseName(path)), images: [],
                                                          expected: "a regular file", actual: what,
                                                          message: "is \(what); images/ is not an image layout (run chartsync images --pull)")])
        }
        let entries: [ImageLayout.Entry]
        do {
            entries = try store.entries() ?? []
        } catch {
            throw PackError.imageStore([ImageStoreProblem(.invalid, path: "images/index.json", images: [], expected: "a valid index.json",
                                                          actual: error.description, message: error.description)])
        }
        let lock = try ImageCollector(layout: layout).current()
        func present(_ digest: String) -> Bool {
            let path = store.blobPath(digest)
            return FileSystem.isRegularFile(path) && !FileSystem.isSymlink(path)
        }
        let needs = ImageStoreCheck.needs(entries: entries, read: store.readManifest, present: present)
        let problems = ImageStoreCheck.lockProblems(entries: entries, lock: lock) + needs.problems
        return StorePlan(present: needs.blobs.filter { present($0.digest) }.map { ImageStoreCheck.blobPath($0.digest) },
                         blobs: needs.blobs,
                         summaries: ImageStoreCheck.summaries(entries: entries, blobs: needs.blobs, read: store.readManifest),
                         problems: problems)
    }

    /// The chart list, the lock, every regular file under charts/external, charts/custom and
    /// charts/patches (dotfiles skipped; links and special files refused), with an image store
    /// `images/oci-layout`, `images/index.json` and `blobs` (the needed blobs that are there), and
    /// the files `bundle.include` adds (``IncludedFiles``: what the rest carries is not repeated),
    /// and the charts' `values:` files (the image scan at the site reads them too). Every file is
    /// hashed, except the blobs: their digest is their name, their size the file system's.
    private func collect(blobs: [String], include: [ChartList.BundleSettings.Include], values: [String]) throws -> [Collected] {
        var paths = [FileSystem.baseName(layout.chartList), "versions.lock"]
        if FileSystem.isRegularFile(layout.root + "/images.lock") { paths.append("images.lock") }
        if !blobs.isEmpty || FileSystem.isRegularFile(layout.root + "/images/index.json") {
            paths += ["images/oci-layout", "images/index.json"]
        }
        for tree in ["charts/external", "charts/custom", "charts/patches"] where FileSystem.isDirectory(layout.root + "/" + tree) {
            try walk(tree, into: &paths)
        }
        paths += try IncludedFiles(layout: layout).files(include)
        let included = IncludedFiles(layout: layout)
        var seen = Set(paths)
        for path in values.map(Self.normalized) where !included.isCarried(path) && seen.insert(path).inserted {
            let full = layout.root + "/" + path
            guard FileSystem.isRegularFile(full), !FileSystem.isSymlink(full) else {
                throw PackError.unsupported(path: full, what: FileSystem.isSymlink(full) ? "a symbolic link" : "not a regular file")
            }
            paths.append(path)
        }
        return try hash(paths) + blobs.map(named)
    }

    /// An image blob as the manifest lists it, unread: its name, its size from the file system.
    private func named(_ path: String) throws -> Collected {
        let full = layout.root + "/" + path
        guard let identity = FileSystem.identity(full) else {
            throw FileSystemError(path: full, message: "cannot open: \(SystemError.text())")
        }
        guard let digest = Digest(FileSystem.baseName(path)) else {
            throw PackError.unsupported(path: full, what: "not named by its sha256 digest")
        }
        return Collected(path: path, size: identity.size, sha256: digest, executable: FileSystem.isExecutable(full),
                         identity: identity, named: true)
    }

    /// The files at `paths` (relative to the root), hashed on every core: the re-proof and the
    /// manifest's digests.
    private func hash(_ paths: [String]) throws -> [Collected] {
        let root = layout.root
        let hashed = WorkerPool.map(paths, threads: WorkerPool.processorCount) { path in
            let full = root + "/" + path
            return Result { () throws(FileSystemError) -> Collected in
                let identity = FileSystem.identity(full)
                let (digest, size) = try FileSystem.sha256(ofFile: full)
                guard FileSystem.identity(full) == identity else {
                    throw FileSystemError(path: full, message: "changed while it was being read; try again")
                }
                return Collected(path: path, size: size, sha256: digest, executable: FileSystem.isExecutable(full),
                                 identity: identity)
            }
        }
        return try hashed.map { try $0.get() }
    }

    /// The image store's problems with every blob hashed, as the gate reports them (each damaged
    /// blob named with the images needing it); nil when there are none. For when something went
    /// wrong before every blob was proven: a blob's size is not its manifest's, a blob's bytes
    /// turned out not to be its name while it was written, or the write failed.
    private func storeFailure(_ store: StorePlan, files: [Collected]) throws -> PackError? {
        var known: [String: (sha256: Digest, size: Int64)] = [:]
        for file in try files.filter({ !$0.named }) + hash(files.filter(\.named).map(\.path)) {
            known[file.path] = (file.sha256, file.size)
        }
        let problems = store.problems
            + ImageStoreCheck.contents(store.blobs, reported: store.problems) { known[ImageStoreCheck.blobPath($0)] }
        return problems.isEmpty ? nil : .imageStore(problems)
    }

    /// A chart list path as the bundle lists it: without `./` components and doubled slashes.
    static func normalized(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// Every regular file below `relative`, dotfiles included (a chart's `.helmignore` is part of
    /// the proven tree); only dotfiles directly in charts/external, which the gate ignores too
    /// (`.gitkeep`), stay behind.
    private func walk(_ relative: String, into paths: inout [String]) throws {
        for name in try FileSystem.listDirectory(layout.root + "/" + relative)
        where !(name.hasPrefix(".") && relative == "charts/external") {
            let path = relative + "/" + name
            let full = layout.root + "/" + path
            if FileSystem.isDirectory(full) {
                try walk(path, into: &paths)
            } else if FileSystem.isRegularFile(full) {
                paths.append(path)
            } else {
                throw PackError.unsupported(path: full, what: FileSystem.isSymlink(full) ? "a symbolic link" : "not a regular file")
            }
        }
    }

    /// Every lock entry's tarball (and unpacked tree) must be there and match; nothing else may
    /// sit in charts/external. The working-tree gate's check, fed with the digests just computed.
    private func prove(_ lock: Lockfile, files: [Collected]) throws {
        var known: [String: (sha256: Digest, size: Int64)] = [:]
        for file in files { known[file.path] = (file.sha256, file.size) }
        let check = try VendoredCharts(layout: layout).check(lock, known: known)
        if !check.findings.isEmpty { throw PackError.notProven(check.findings.map(\.description)) }
        onEvent?(.proved(charts: lock.entries.count, files: files.count))
    }
}
