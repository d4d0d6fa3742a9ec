import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// `push BUNDLE`: a bundle pushed without writing its payload anywhere, in two streaming passes.
///
/// 1. The first pass proves the whole bundle exactly as `verify BUNDLE` does (the verifier's
///    own code: parts, signature, every entry against MANIFEST, the image store's closure) and
///    keeps what is small: versions.lock, images/index.json and the manifests, each chart
///    tarball's Chart.yaml (read from the tarball as it streams, one at a time). From these the
///    plan is made by the rules a directory push uses (``PushPlan``); a problem stops the push
///    before any request. The registry is then asked (`HEAD`) which blobs it lacks, and what
///    another repository has is mounted.
/// 2. Only when blobs are missing, the second pass reads the bundle again, proving every entry
///    again against the same MANIFEST (whose bytes must equal the first pass's), and sends each
///    missing blob as its entry streams by, up to `--jobs` blobs at once (``BundleUploader``):
///    one `PUT` for a blob up to `BundleUploader.chunkSize`, `PATCH` chunks of it for a larger
///    one, closed only after the entry was proven. Memory stays at `jobs + 1` chunks.
///
/// A blob needed by several repositories is uploaded once and mounted into the others; a
/// registry that refuses a mount gets the blob uploaded in one more pass.
final class BundlePush {
    let path: String
    let trustedKey: String?
    let pusher: Pusher
    /// The MANIFEST the first pass proved.
    private var proven: [UInt8]?

    /// The largest chart tarball read in memory for its Chart.yaml.
    static let chartTarballLimit: Int64 = 64 << 20
    /// versions.lock kept in memory at most.
    static let lockLimit: Int64 = 16 << 20

    init(path: String, trustedKey: String?, pusher: Pusher) {
        self.path = path
        self.trustedKey = trustedKey
        self.pusher = pusher
    }

    // MARK: - The first pass

    /// Proves the bundle and plans the push from what was kept.
    func firstPass(_ options: PushOptions) throws -> PushPlan {
        let verifier = BundleVerifier(cancellation: pusher.cancellation)
        let bundle = try Self.interruptible { try verifier.open(path, trustedKey: trustedKey) }
        if let base = bundle.manifest.base {
            throw PushError.source("\(bundle.parts[0]) is a delta onto \"\(base.name)\" #\(base.sequence): it carries only what that "
                                   + "delivery lacks; apply it (verify DELTA --extract SITE) and push SITE")
        }
        let store = bundle.hasStore ? BundleVerifier.storeRetention : nil
        bundle.reader.retain = { path, size in
            if path == "versions.lock" { return size <= BundlePush.lockLimit ? .always : nil }
            return store?(path, size)
        }
        let charts = ChartReader(cancellation: pusher.cancellation)
        try Self.interruptible { try verifier.prove(bundle, consumer: charts) }
        proven = bundle.header.manifest

        let name = bundle.parts[0]
        var files: [String: BundleManifest.File] = [:]
        for file in bundle.manifest.files { files[file.path] = file }
        guard files["versions.lock"] != nil else {
            throw PushError.source("\(name) is not a delivery: it has no versions.lock")
        }
        guard let lockBytes = bundle.reader.retained["versions.lock"] else {
            throw PushError.source("\(name): versions.lock is larger than push reads (\(Self.lockLimit >> 20) MiB)")
        }
        let lock: Lockfile
        do throws(YAMLError) {
            lock = try LockfileCoding.parse(lockBytes, source: name + ": versions.lock")
        } catch {
            throw PushError.source("\(name): versions.lock: line \(error.line): \(error.message)")
        }
        var plan = PushPlan(target: options.target, keepSourceRegistry: options.keepSourceRegistry)

        // Charts: vendored (proven against versions.lock) and custom tarballs, as MANIFEST lists them.
        var tarballs: [(path: String, locked: Lockfile.Entry?)] = lock.entries.map { ("charts/external/" + $0.fileName, $0) }
        var directories: Set<String> = []
        for file in bundle.manifest.files.sorted(by: { $0.path < $1.path }) where file.path.hasPrefix("charts/custom/") {
            let parts = file.path.split(separator: "/")
            if parts.count == 3 && file.path.hasSuffix(".tgz") {
                tarballs.append((file.path, nil))
            } else if parts.count > 3 {
                directories.insert(parts.prefix(3).joined(separator: "/"))
            }
        }
        try PushPlan.refuseChartDirectories(directories.sorted())
        for (path, locked) in tarballs {
            guard let file = files[path] else {
                plan.problems.append("\(path): versions.lock lists it; the bundle does not carry it")
                continue
            }
            let archive = charts.archives[path] ?? .failure(.unreadable(path: path, message: "not read"))
            plan.addChart(shown: path, locked: locked, sha256: file.sha256, size: file.size, archive: archive, content: .entry(path))
        }

        // Images: index.json and the manifests kept in memory, proven by the first pass.
        if bundle.hasStore {
            let retained = bundle.reader.retained
            let entries: [ImageLayout.Entry]
            do throws(ImageLayoutError) {
                entries = try ImageLayout.parseIndex(retained["images/index.json"] ?? [], source: name + ": images/index.json")
            } catch {
                throw PushError.source(error.description)
            }
            plan.addImages(entries, read: { digest, _ in retained[ImageStoreCheck.blobPath(digest)] }) { blob in
                let path = ImageStoreCheck.blobPath(blob.digest)
                guard files[path]?.size == blob.size else { return nil }
                return .entry(path)
            }
        }
        try plan.check()
        return plan
    }

    /// Takes the Chart.yaml of each chart tarball as it streams (one tarball in memory at a time).
    final class ChartReader: BundleEntryConsumer {
        let cancellation: Cancellation
        /// What each tarball held, by bundle path.
        private(set) var archives: [String: Result<ChartArchive, ArchiveError>] = [:]
        private var bytes: [UInt8] = []

        init(cancellation: Cancellation) { self.cancellation = cancellation }

        /// A chart tarball: `charts/external/<file>.tgz` or `charts/custom/<file>.tgz`.
        static func isChart(_ path: String) -> Bool {
            let parts = path.split(separator: "/")
            return parts.count == 3 && parts[0] == "charts" && (parts[1] == "external" || parts[1] == "custom") && path.hasSuffix(".tgz")
        }

        func begin(_ path: String, size: Int64) -> Bool {
            guard Self.isChart(path) else { return false }
            guard size <= BundlePush.chartTarballLimit else {
                archives[path] = .failure(.fileTooLarge(path: path, entry: path, limit: BundlePush.chartTarballLimit))
                return false
            }
            bytes.removeAll(keepingCapacity: true)
            return true
        }

        func data(_ block: UnsafeRawBufferPointer) -> Bool {
            bytes.append(contentsOf: block)
            return true
        }

        func end(_ path: String) -> Bool {
            let cancellation = cancellation
            let bytes = bytes
            archives[path] = Result { () throws(ArchiveError) in
                try ChartArchive(bytes: bytes, name: path, cancellation: cancellation)
            }
            self.bytes.removeAll(keepingCapacity: true)
            return true
        }
    }

    // MARK: - What the registry lacks, then the second pass

    /// One streamed blob still to send: the repositories to upload it to, and those to mount it
    /// into afterwards.
    struct Pending {
        let blob: Pusher.BlobPush
        var uploads: [String]
        var later: [String]
    }

    /// Sends the blobs whose bytes are bundle entries: `HEAD` and mounts first (no pass when the
    /// registry lacks nothing), then the second pass for what must be uploaded.
    func send(_ blobs: [Pusher.BlobPush], client: RegistryClient, options: PushOptions) throws -> Pusher.BlobCounts {
        let registry = options.target.registry
        let (cancellation, onEvent) = (pusher.cancellation, pusher.onEvent)
        let decided = WorkerPool.map(blobs, threads: options.jobs) { blob -> Result<(Pending, [BlobPushOutcome]), PushError> in
            var present: [String] = [], missing: [String] = [], outcomes: [BlobPushOutcome] = []
            var current = blob.repositories[0]
            do throws(RegistryError) {
                for repository in blob.repositories {
                    guard !cancellation.isCancelled else { return .failure(.interrupted) }
                    current = repository
                    if try client.hasBlob(registry: registry, repository: repository, digest: blob.digest) {
                        present.append(repository)
                        outcomes.append(.present)
                        onEvent?(.blobPushed(digest: blob.digest, repository: repository, outcome: .present))
                    } else {
                        missing.append(repository)
                    }
                }
                guard let from = present.first else {
                    return .success((Pending(blob: blob, uploads: Array(missing.prefix(1)), later: Array(missing.dropFirst())), outcomes))
                }
                var uploads: [String] = []
                for repository in missing {
                    current = repository
                    if try client.mountBlob(registry: registry, repository: repository, digest: blob.digest, from: from) {
                        outcomes.append(.mounted(from: from))
                        onEvent?(.blobPushed(digest: blob.digest, repository: repository, outcome: .mounted(from: from)))
                    } else {
                        uploads.append(repository)
                    }
                }
                return .success((Pending(blob: blob, uploads: uploads, later: []), outcomes))
            } catch {
                if case .cancelled = error { return .failure(.interrupted) }
                return .failure(.failures([("\(blob.subject): blob \(blob.digest) to \(registry)/\(current)", error)]))
            }
        }
        var counts = Pusher.BlobCounts()
        var pending: [String: Pending] = [:]
        for result in decided {
            switch result {
            case .success(let (item, outcomes)):
                outcomes.forEach { counts.add($0) }
                if case .entry(let path) = item.blob.content, !item.uploads.isEmpty { pending[path] = item }
            case .failure(.failures(let some)): counts.failures += some
            case .failure(let other): throw other
            }
        }
        // Nothing is sent while any blob failed to be asked about: the next push starts from the same place.
        guard counts.failures.isEmpty else { return counts }

        // At most two passes: the uploads and mounts, then the repositories that refused a mount.
        while !pending.isEmpty {
            let uploader = try secondPass(pending, client: client, registry: registry, jobs: options.jobs)
            counts.uploaded += uploader.counts.uploaded
            counts.uploadedBytes += uploader.counts.uploadedBytes
            counts.failures += uploader.counts.failures
            // Mounted into the other repositories that need it, up to --jobs blobs at once; a
            // repository that refuses a mount gets the blob in the next pass.
            let mountable = pending.compactMap { path, item in
                uploader.done[path]?.first.map { (path: path, item: item, from: $0) }
            }.filter { !$0.item.later.isEmpty }
            typealias Mounts = (mounted: Int, refused: [String], failures: [(subject: String, error: RegistryError)])
            let mounts = WorkerPool.map(mountable, threads: options.jobs) { _, item, from -> Result<Mounts, PushError> in
                var done: Mounts = (0, [], [])
                for repository in item.later {
                    guard !cancellation.isCancelled else { return .failure(.interrupted) }
                    do throws(RegistryError) {
                        if try client.mountBlob(registry: registry, repository: repository, digest: item.blob.digest, from: from) {
                            done.mounted += 1
                            onEvent?(.blobPushed(digest: item.blob.digest, repository: repository, outcome: .mounted(from: from)))
                        } else {
                            done.refused.append(repository)
                        }
                    } catch {
                        if case .cancelled = error { return .failure(.interrupted) }
                        done.failures.append(("\(item.blob.subject): blob \(item.blob.digest) to \(registry)/\(repository)", error))
                    }
                }
                return .success(done)
            }
            var next: [String: Pending] = [:]
            for ((path, item, from), result) in zip(mountable, mounts) {
                let done = try result.get()
                for _ in 0..<done.mounted { counts.add(.mounted(from: from)) }
                counts.failures += done.failures
                if !done.refused.isEmpty { next[path] = Pending(blob: item.blob, uploads: done.refused, later: []) }
            }
            pending = next
        }
        return counts
    }

    /// Reads the bundle again, proving every entry against the first pass's MANIFEST, and
    /// uploads the pending blobs as their entries stream by, up to `jobs` at once
    /// (``BundleUploader``); returns once every upload handed over is closed or abandoned.
    private func secondPass(_ pending: [String: Pending], client: RegistryClient, registry: String,
                            jobs: Int) throws -> BundleUploader.Results {
        let verifier = BundleVerifier(cancellation: pusher.cancellation)
        let bundle = try Self.interruptible { try verifier.open(path, trustedKey: trustedKey) }
        guard bundle.header.manifest == proven else {
            throw PushError.bundleChanged("\(bundle.parts[0]): its MANIFEST is not the one the first pass proved")
        }
        bundle.reader.retain = nil
        let uploader = BundleUploader(pending, jobs: jobs, client: client, registry: registry, cancellation: pusher.cancellation,
                                      onEvent: pusher.onEvent)
        do {
            try verifier.prove(bundle, consumer: uploader, checkingStore: false)
        } catch VerifyError.archive(.consumerStopped) {
            throw uploader.finish().stop ?? PushError.interrupted
        } catch VerifyError.interrupted {
            _ = uploader.finish()
            throw PushError.interrupted
        } catch let error as VerifyError {
            // The entry not proven is abandoned, never closed; the blobs proven before it stay.
            _ = uploader.finish()
            throw PushError.bundleChanged(error.description)
        } catch {
            _ = uploader.finish()
            throw error
        }
        let results = uploader.finish()
        if let stop = results.stop { throw stop }
        return results
    }

    /// Runs `body`, turning an interrupted verification into an interrupted push.
    private static func interruptible<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch VerifyError.interrupted {
            throw PushError.interrupted
        }
    }
}
