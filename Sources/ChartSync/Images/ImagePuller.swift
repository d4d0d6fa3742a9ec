import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import struct Crypto.SHA256
import Glibc
import Synchronization

/// How to run `chartsync images --pull`.
public struct ImagePullOptions: Sendable {
    /// Requests at once, manifests and blobs alike (each blob fetched and proven on its own thread).
    public var jobs: Int
    /// Transport settings for registries not listed under `images.registries` (and the base for those listed).
    public var transport: TransportOptions
    /// Where credential variables named in the chart list are read, and `DOCKER_CONFIG`/`HOME`.
    public var environment: [String: String]

    /// Creates options.
    public init(jobs: Int = 8, transport: TransportOptions = TransportOptions(), environment: [String: String] = [:]) {
        self.jobs = max(1, jobs)
        self.transport = transport
        self.environment = environment
    }
}

/// One image as the store holds it.
public struct StoredImage: Sendable, Equatable {
    /// The reference `index.json` names it by (`registry/repository:tag`).
    public let reference: String
    /// The digest of what `index.json` points to (a filtered index's own digest when platforms were chosen).
    public let digest: String
    /// The upstream digest images.lock pins.
    public let sourceDigest: String
    /// The platforms carried (`os/architecture[/variant]`); empty for a single-platform image.
    public let platforms: [String]
    /// The bytes of every blob the image needs (manifests included), shared blobs counted for each image.
    public let size: Int64
}

/// What `images --pull` did.
public struct ImagePullReport: Sendable {
    /// images.lock as written (digests pinned first where missing).
    public let images: ImagesReport
    /// Every image in the store, sorted by reference.
    public let stored: [StoredImage]
    /// Blobs (manifests included) downloaded and proven, and their bytes.
    public let fetched: Int
    public let fetchedBytes: Int64
    /// Blobs already in the store, proven again and kept, and their bytes.
    public let reused: Int
    public let reusedBytes: Int64
    /// Blobs no image of images.lock needs any more, removed from the store.
    public let pruned: Int
    /// Foreign and non-distributable layers, not carried (registries need not serve them).
    public let skipped: [ImageLayout.Blob]
    /// Whether index.json changed.
    public let indexWritten: Bool
}

/// Why `images --pull` did not complete. The store keeps every blob it proved (a next run
/// resumes with them); index.json is only rewritten when every image is complete.
public enum ImagePullError: ChartSyncFailure, CustomStringConvertible {
    /// Images that could not be fetched, each with the registry's answer.
    case images([(image: String, error: RegistryError)])
    /// An index lists none of the chart list's platforms.
    case noPlatform(image: String, wanted: [String], available: [String])
    /// The store at `images/` cannot be used.
    case layout(ImageLayoutError)
    /// The project is locked by another chartsync.
    case locked(path: String)
    /// The run was interrupted; the blobs proven so far stay for the next run.
    case interrupted

    /// Whether the failure is some images' alone (a registry's answer), not one that ends the pull.
    var isImageFailure: Bool {
        if case .images = self { return true }
        return false
    }

    public var kind: FailureKind {
        switch self {
        case .images(let failures): return failures.first?.error.kind ?? .io
        case .noPlatform: return .input
        case .layout(.invalid), .layout(.notALayout): return .input
        case .layout(.fileSystem), .locked: return .io
        case .interrupted: return .interrupted
        }
    }

    public var description: String {
        switch self {
        case .images(let failures):
            return "could not pull \(failures.count) image(s); images/index.json was not changed:\n  "
                + failures.map { "\($0.image): \($0.error)" }.joined(separator: "\n  ")
        case let .noPlatform(image, wanted, available):
            return "\(image): its index lists none of images.platforms (\(wanted.joined(separator: ", "))); it has "
                + (available.isEmpty ? "no platforms" : available.joined(separator: ", "))
        case .layout(let error): return error.description
        case .locked(let path): return "\(path) is locked: another chartsync is working on it"
        case .interrupted: return "interrupted; the blobs proven so far stay in images/ for the next run"
        }
    }
}

/// Fills the project's image store (`images/`, an OCI image layout) with every image of
/// images.lock: manifests, indexes, configs and layers, each streamed to a temporary file,
/// proven against its digest and size, then renamed into `blobs/sha256/`. What the store holds
/// already is proven again, not trusted, and not fetched again; blobs shared by images are
/// fetched once; blobs no image needs any more are removed once the store is complete.
/// Manifests and blobs share one pool of `jobs` transfers: an image's blobs start as soon as its
/// own manifests are proven, not after every image's.
public struct ImagePuller: Sendable {
    private let layout: ProjectLayout
    private let onEvent: ChartSyncEventHandler?
    private let onRegistryEvent: (@Sendable (TransportEvent) -> Void)?
    /// Set it (from a signal handler) to stop; the blobs proven so far stay.
    public let cancellation: Cancellation

    /// Creates a puller for a project; `onRegistryEvent` hears the registries' retries, redirects
    /// and insecure TLS.
    public init(layout: ProjectLayout, cancellation: Cancellation = Cancellation(), onEvent: ChartSyncEventHandler? = nil,
                onRegistryEvent: (@Sendable (TransportEvent) -> Void)? = nil) {
        self.layout = layout
        self.cancellation = cancellation
        self.onEvent = onEvent
        self.onRegistryEvent = onRegistryEvent
    }

    /// The store: `images/` under the project root.
    public var store: ImageLayout { ImageLayout(root: layout.root + "/images") }

    /// Pins the images images.lock does not pin yet, then fills the store.
    public func pull(_ options: ImagePullOptions) throws -> ImagePullReport {
        let projectLock: DirectoryLock
        do {
            projectLock = try DirectoryLock(layout.root)
        } catch {
            switch error {
            case .locked(let path): throw ImagePullError.locked(path: path)
            case .fileSystem(let failure): throw ImagePullError.layout(.fileSystem(failure))
            }
        }
        defer { withExtendedLifetime(projectLock) {} }
        // A folder that is not an image layout is refused before any registry is asked or images.lock written.
        try checkStore()
        let collector = ImageCollector(layout: layout)
        let imagesOptions = ImagesOptions(pinMissing: true, transport: options.transport, environment: options.environment)
        let imagesReport = try collector.run(imagesOptions)
        let list = try ChartListReader.read(path: layout.chartList)
        do {
            try ChartListReader.checkFiles(list, source: layout.chartList, repositories: false, registries: true)
        } catch {
            throw ImagesError.lock(error.description)
        }
        let onEvent = onEvent
        let client = try collector.registryClient(list, options: imagesOptions, cancellation: cancellation,
                                                  onEvent: onRegistryEvent)
        try prepareStore()
        guard !cancellation.isCancelled else { throw ImagePullError.interrupted }

        // One pool of `jobs` transfers: every image's manifests first (from the store when proven
        // there, else fetched), and the blobs they name queued as soon as they are proven, each
        // once (see `PullJob.pick` for the order). The first images' blobs arrive while the last
        // images' manifests are asked for; no image waits for all the others' manifests.
        let images = imagesReport.manifest.images
        let platforms = list.images.platforms
        let store = self.store
        let cancellation = cancellation
        let run = Mutex(PullRun())
        WorkerPool.run(images.indices.map { PullJob.image($0) }, threads: options.jobs, pick: PullJob.pick) { job, add in
            guard !cancellation.isCancelled, !run.withLock({ $0.stopped }) else { return }
            switch job {
            case .image(let i):
                let reference = images[i].reference
                let result = Self.gatherResult(reference, platforms: platforms, store: store, client: client)
                var found: [ImageLayout.Blob] = []
                if case .success(let image) = result {
                    // Its config and layers, from the manifests proven just now.
                    let named = ImageLayout.closure(of: [image.entry], read: store.readManifest).blobs
                    found = run.withLock { state in named.filter { !$0.isManifest && state.queued.insert($0.digest).inserted } }
                }
                run.withLock { state in
                    state.gathered[i] = result
                    if case .failure(let error) = result, !error.isImageFailure { state.stopped = true }
                }
                for blob in found { add(.blob(blob, source: reference)) }
            case let .blob(blob, source):
                let outcome = Self.fetchBlob(blob, from: source, store: store, client: client, onEvent: onEvent)
                run.withLock { state in
                    state.blobs[blob.digest] = outcome
                    if case .failure(let error) = outcome, error.kind == .interrupted { state.stopped = true }
                }
            }
        }
        let state = run.withLock { $0 }
        var entries: [ImageLayout.Entry] = []
        var failures: [(image: String, error: RegistryError)] = []
        for i in images.indices {
            switch state.gathered[i] {
            case .success(let image)?: entries.append(image.entry)
            case .failure(.images(let some))?: failures += some
            case .failure(let other)?: throw other
            case nil: break   // not started: the pull stopped
            }
        }
        let interrupted = state.blobs.values.contains { outcome in
            if case .failure(let error) = outcome { return error.kind == .interrupted }
            return false
        }
        if interrupted || cancellation.isCancelled { throw ImagePullError.interrupted }

        // Every blob those manifests name, each once: the ones queued above.
        let (blobs, gaps, skipped) = ImageLayout.closure(of: entries, read: store.readManifest)
        if let gap = gaps.first {
            // The manifests were all proven into the store just before; a gap means it changed under us.
            throw ImagePullError.layout(.invalid(path: store.blobPath(gap.digest), reason: gap.description))
        }
        for blob in skipped { onEvent?(.imageLayerSkipped(digest: blob.digest, mediaType: blob.mediaType, images: blob.images)) }
        var outcomes: [Result<(fetched: Bool, bytes: Int64), RegistryError>] = []
        for blob in blobs where !blob.isManifest {
            guard let outcome = state.blobs[blob.digest] else {
                throw ImagePullError.layout(.invalid(path: store.blobPath(blob.digest),
                                                     reason: "no manifest proven during the pull named it (the store changed under it)"))
            }
            if case .failure(let error) = outcome { failures.append((blob.images.joined(separator: ", "), error)) }
            outcomes.append(outcome)
        }
        if !failures.isEmpty { throw ImagePullError.images(failures) }
        let gathered = images.indices.compactMap { try? state.gathered[$0]?.get() }

        // Manifests: fetched in this run (once, whichever image asked), made here, or proven there.
        let fetchedManifests = gathered.reduce(into: Set<String>()) { $0.formUnion($1.fetchedDigests) }
        let writtenManifests = Set(gathered.compactMap(\.writtenDigest))
        var fetched = 0, reused = 0
        var fetchedBytes: Int64 = 0, reusedBytes: Int64 = 0
        for blob in blobs where blob.isManifest && !writtenManifests.contains(blob.digest) {
            if fetchedManifests.contains(blob.digest) {
                fetched += 1
                fetchedBytes += blob.size
            } else {
                reused += 1
                reusedBytes += blob.size
            }
        }
        for case .success(let done) in outcomes {
            if done.fetched { fetched += 1; fetchedBytes += done.bytes } else { reused += 1; reusedBytes += done.bytes }
        }
        guard !cancellation.isCancelled else { throw ImagePullError.interrupted }

        // The store is complete: index.json names exactly the images of images.lock, once the
        // renames of the blobs it needs are on disk.
        FileSystem.syncDirectory(store.blobsDirectory)
        let indexBytes = ImageLayout.indexBytes(entries)
        let before = try? FileSystem.readFile(store.indexPath)
        do {
            if !FileSystem.isRegularFile(store.layoutPath) {
                try FileSystem.writeAtomically(Array(ImageLayout.layoutText.utf8), to: store.layoutPath)
            }
            if before != indexBytes { try FileSystem.writeAtomically(indexBytes, to: store.indexPath) }
        } catch {
            throw ImagePullError.layout(.fileSystem(error))
        }
        let needed = Set(blobs.map(\.digest))
        var pruned = 0
        for digest in store.storedBlobs().digests.subtracting(needed).sorted() where FileSystem.removeFile(store.blobPath(digest)) {
            pruned += 1
            onEvent?(.removed(path: "images/" + ImageLayout.blobRelativePath(digest)))
        }
        var sizes: [String: Int64] = [:]
        for blob in blobs { for image in blob.images { sizes[image, default: 0] += blob.size } }
        let stored = gathered.map { image in
            StoredImage(reference: image.entry.reference, digest: image.entry.descriptor.digest,
                        sourceDigest: image.entry.sourceDigest, platforms: image.platforms,
                        size: sizes[image.entry.reference] ?? 0)
        }.sorted { $0.reference < $1.reference }
        return ImagePullReport(images: imagesReport, stored: stored, fetched: fetched, fetchedBytes: fetchedBytes,
                               reused: reused, reusedBytes: reusedBytes, pruned: pruned, skipped: skipped,
                               indexWritten: before != indexBytes)
    }

    /// Refuses a non-empty `images/` that is not an image layout (or a link); writes nothing.
    private func checkStore() throws(ImagePullError) {
        let store = self.store
        for path in [store.root, store.root + "/blobs", store.blobsDirectory] where FileSystem.isSymlink(path) {
            throw .layout(.notALayout(path: path, reason: "is a symbolic link"))
        }
        if FileSystem.exists(store.root) {
            guard FileSystem.isDirectory(store.root) else { throw .layout(.notALayout(path: store.root, reason: "is not a directory")) }
            let contents = (try? FileSystem.listDirectory(store.root)) ?? []
            if !contents.isEmpty && !FileSystem.isRegularFile(store.layoutPath) {
                throw .layout(.notALayout(path: store.root, reason: "holds files and no oci-layout"))
            }
        }
    }

    /// Checks the store again (see `checkStore`), creates its folders and `oci-layout` before any
    /// blob (a first run that stops early, interrupted or failing, leaves a store the next run
    /// takes for chartsync's and resumes), and removes the temporary files a killed run left (the
    /// project lock is held).
    private func prepareStore() throws(ImagePullError) {
        try checkStore()
        let store = self.store
        do {
            for path in [store.root, store.root + "/blobs", store.blobsDirectory] where !FileSystem.isDirectory(path) {
                try FileSystem.makeDirectory(path)
            }
            if !FileSystem.isRegularFile(store.layoutPath) {
                try FileSystem.writeAtomically(Array(ImageLayout.layoutText.utf8), to: store.layoutPath)
            }
        } catch {
            throw .layout(.fileSystem(error))
        }
        for name in store.storedBlobs().others where name.contains(".partial-") {
            FileSystem.removeFile(store.blobsDirectory + "/" + name)
        }
    }

    /// A job of the pull's pool: an image's manifests (by its index in images.lock), or one blob
    /// with the image whose repository it is fetched from.
    enum PullJob: Sendable {
        case image(Int)
        case blob(ImageLayout.Blob, source: ImageReference)

        /// What transfer slot `worker` runs next: an image's manifests first, in images.lock's
        /// order (they name the blobs); then blobs, the largest first on even slots and the
        /// smallest first on odd ones. The largest start early and never run alone at the end,
        /// and the small ones (a config: one round trip, hardly any bytes) go alongside them, not
        /// all together at the end (or the start) when nothing else would use the bandwidth.
        @Sendable static func pick(_ waiting: [PullJob], worker: Int) -> Int {
            var best = 0
            for i in waiting.indices.dropFirst() where waiting[i].runsBefore(waiting[best], largestFirst: worker % 2 == 0) {
                best = i
            }
            return best
        }

        private func runsBefore(_ other: PullJob, largestFirst: Bool) -> Bool {
            switch (self, other) {
            case let (.image(a), .image(b)): return a < b
            case (.image, .blob): return true
            case (.blob, .image): return false
            case let (.blob(a, _), .blob(b, _)):
                if a.size == b.size { return a.digest < b.digest }
                return largestFirst == (a.size > b.size)
            }
        }
    }

    /// What the pool has done so far.
    struct PullRun: Sendable {
        /// Each image's manifests, by its index in images.lock (absent: not started).
        var gathered: [Int: Result<Gathered, ImagePullError>] = [:]
        /// The blobs queued (each once for the whole pull), and what came of those that ran.
        var queued: Set<String> = []
        var blobs: [String: Result<(fetched: Bool, bytes: Int64), RegistryError>] = [:]
        /// Set on an interruption or a failure that ends the pull (no platform wanted): no job starts after it.
        var stopped = false
    }

    /// `gather`, with its failures sorted: a registry's answer names the image.
    static func gatherResult(_ reference: ImageReference, platforms: [ChartList.ImageSettings.Platform], store: ImageLayout,
                             client: RegistryClient) -> Result<Gathered, ImagePullError> {
        do {
            return .success(try gather(reference, platforms: platforms, store: store, client: client))
        } catch let error as ImagePullError {
            return .failure(error)
        } catch let error as RegistryError {
            if error.kind == .interrupted { return .failure(.interrupted) }
            return .failure(.images([(reference.description, error)]))
        } catch {
            return .failure(.images([(reference.description, .transport(registry: reference.registry,
                                                                        .io(path: store.root, message: "\(error)")))]))
        }
    }

    /// Puts the blob in the store unless it is there already, proven: streamed from `source`'s
    /// repository to a temporary file, proven (size, SHA-256), renamed. Whether it was fetched,
    /// and its bytes.
    static func fetchBlob(_ blob: ImageLayout.Blob, from source: ImageReference, store: ImageLayout, client: RegistryClient,
                          onEvent: ChartSyncEventHandler?) -> Result<(fetched: Bool, bytes: Int64), RegistryError> {
        let path = store.blobPath(blob.digest)
        if isProven(path, digest: blob.digest, size: blob.size) { return .success((false, blob.size)) }
        FileSystem.removeFile(path)
        onEvent?(.imageBlobFetching(digest: blob.digest, size: blob.size, image: blob.images[0]))
        do throws(RegistryError) {
            // The directory is synced once, before index.json names the blobs (not after every rename).
            let result = try client.blob(repository: source.repository, registry: source.registry, digest: blob.digest,
                                         size: blob.size, to: path, syncDirectory: false)
            onEvent?(.imageBlobFetched(digest: blob.digest, size: result.bytes, image: blob.images[0]))
            return .success((true, result.bytes))
        } catch {
            return .failure(error)
        }
    }

    /// Whether the file at `path` is the blob `digest` (size, then SHA-256).
    static func isProven(_ path: String, digest: String, size: Int64) -> Bool {
        guard FileSystem.isRegularFile(path), !FileSystem.isSymlink(path), FileSystem.identity(path)?.size == size,
              let (actual, length) = try? FileSystem.sha256(ofFile: path) else { return false }
        return length == size && actual.prefixed == digest
    }

    /// One image's manifests, in the store: its index.json entry and what was fetched for it.
    struct Gathered: Sendable {
        let entry: ImageLayout.Entry
        let platforms: [String]
        /// The manifests downloaded for it (another image may have fetched the same at once).
        let fetchedDigests: Set<String>
        /// A filtered index written for it (made here, neither fetched nor reused).
        let writtenDigest: String?
    }

    /// Puts the manifest `reference` pins (and, for an index, its children's, narrowed to
    /// `platforms`) in the store, each proven; returns the image's index.json entry.
    static func gather(_ reference: ImageReference, platforms: [ChartList.ImageSettings.Platform], store: ImageLayout,
                       client: RegistryClient) throws -> Gathered {
        guard let digest = reference.digest else {
            throw RegistryError.invalidReference(image: reference.description, reason: "images.lock does not pin its digest")
        }
        var fetched = Set<String>()
        var written: String?
        func manifest(_ digest: String) throws -> (bytes: [UInt8], manifest: OCIManifest) {
            let path = store.blobPath(digest)
            if let stored = try? FileSystem.readFile(path, limit: Int(RegistryClient.manifestSizeLimit)),
               Digest(bytes: SHA256.hash(data: stored)).prefixed == digest,
               let decoded = try? OCIManifest.parse(stored) {
                return (stored, decoded)
            }
            let answer = try client.manifest(registry: reference.registry, repository: reference.repository, reference: digest)
            try write(answer.bytes, to: path)
            fetched.insert(digest)
            return (answer.bytes, answer.manifest)
        }
        func write(_ content: [UInt8], to path: String) throws {
            guard !FileSystem.isRegularFile(path) || (try? FileSystem.readFile(path, limit: content.count + 1)) != content else { return }
            do {
                try FileSystem.writeAtomically(content, to: path)
            } catch {
                throw RegistryError.transport(registry: reference.registry, .io(path: path, message: error.description))
            }
        }
        let top = try manifest(digest)
        var children = top.manifest.manifests
        var entryDescriptor = OCIDescriptor(mediaType: top.manifest.mediaType, digest: digest, size: Int64(top.bytes.count))
        var carried: [String] = []
        if top.manifest.isIndex {
            if !platforms.isEmpty {
                let kept = children.filter { child in
                    guard let p = child.platform else { return false }
                    return platforms.contains { $0.matches(os: p.os, architecture: p.architecture, variant: p.variant) }
                }
                guard !kept.isEmpty else {
                    throw ImagePullError.noPlatform(image: reference.description, wanted: platforms.map(\.description),
                                                    available: children.compactMap(\.platform).map(ImageLayout.platformName))
                }
                if kept.count != children.count {
                    // A filtered index of the same type: what a registry accepts on push and serves by tag.
                    let text = "{\"schemaVersion\":2,\"mediaType\":\(Quoting.json(top.manifest.mediaType)),\"manifests\":["
                        + kept.map(ImageLayout.descriptorJSON).joined(separator: ",") + "]}"
                    let filtered = Array(text.utf8)
                    let filteredDigest = Digest(bytes: SHA256.hash(data: filtered)).prefixed
                    try write(filtered, to: store.blobPath(filteredDigest))
                    written = filteredDigest
                    entryDescriptor = OCIDescriptor(mediaType: top.manifest.mediaType, digest: filteredDigest,
                                                    size: Int64(filtered.count),
                                                    annotations: [ImageLayout.sourceDigestAnnotation: digest])
                    children = kept
                }
            }
            carried = children.compactMap(\.platform).map(ImageLayout.platformName)
            var queue = children.map { ($0, 1) }
            while let (child, depth) = queue.popLast() {
                guard depth <= 8 else {
                    throw RegistryError.malformedResponse(registry: reference.registry, url: reference.description,
                                                          reason: "indexes nest more than 8 deep")
                }
                let fetchedChild = try manifest(child.digest)
                queue += fetchedChild.manifest.manifests.map { ($0, depth + 1) }
            }
        }
        return Gathered(entry: ImageLayout.Entry(reference: ImageLayout.refName(reference), descriptor: entryDescriptor),
                        platforms: carried, fetchedDigests: fetched, writtenDigest: written)
    }
}
