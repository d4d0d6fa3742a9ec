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

        // One pool of `jobs` transfers for every manifest and blob: an image's top manifest or
        // index (from the store when proven there, else fetched), each manifest an index lists as
        // a job of its own, and each blob a manifest names, queued as soon as that manifest is
        // proven (each blob once). No blob waits for another image's manifests, nor for its own
        // image's other platforms; `PullJob.pick` says which job a free slot takes.
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
                let result = Self.attempt(reference, store: store) {
                    try Self.top(reference, platforms: platforms, store: store, client: client)
                }
                let found = run.withLock { state -> (manifests: [OCIDescriptor], blobs: [ImageLayout.Blob]) in
                    state.tops[i] = result
                    switch result {
                    case .success(let top):
                        if top.fetched { state.fetchedManifests.insert(top.sourceDigest) }
                        return (state.newManifests(top.children), state.newBlobs(top.blobs))
                    case .failure(let error):
                        if !error.isImageFailure { state.stopped = true }
                        return ([], [])
                    }
                }
                for child in found.manifests { add(.manifest(child, image: i, depth: 1)) }
                for blob in found.blobs { add(.blob(blob, source: reference)) }
            case let .manifest(descriptor, i, depth):
                let reference = images[i].reference
                let result = Self.attempt(reference, store: store) {
                    try Self.child(descriptor, depth: depth, of: reference, store: store, client: client)
                }
                let found = run.withLock { state -> (manifests: [OCIDescriptor], blobs: [ImageLayout.Blob]) in
                    switch result {
                    case .success(let child):
                        if child.fetched { state.fetchedManifests.insert(descriptor.digest) }
                        return (state.newManifests(child.children), state.newBlobs(child.blobs))
                    case .failure(let error):
                        state.manifestFailures[descriptor.digest] = error
                        if !error.isImageFailure { state.stopped = true }
                        return ([], [])
                    }
                }
                for child in found.manifests { add(.manifest(child, image: i, depth: depth + 1)) }
                for blob in found.blobs { add(.blob(blob, source: reference)) }
            case let .blob(blob, source):
                let outcome = Self.fetchBlob(blob, from: source, store: store, client: client, onEvent: onEvent)
                run.withLock { state in
                    state.blobs[blob.digest] = outcome
                    if case .failure(let error) = outcome, error.kind == .interrupted { state.stopped = true }
                }
            }
        }
        let state = run.withLock { $0 }
        // A failure that ends the pull first (in images.lock's order), then an interruption.
        for i in images.indices {
            if case .failure(let error)? = state.tops[i], !error.isImageFailure { throw error }
        }
        if let error = state.manifestFailures.values.first(where: { !$0.isImageFailure }) { throw error }
        let interrupted = state.blobs.values.contains { outcome in
            if case .failure(let error) = outcome { return error.kind == .interrupted }
            return false
        }
        if interrupted || cancellation.isCancelled { throw ImagePullError.interrupted }
        // An image is complete when its top and every manifest below it are proven in the store;
        // a manifest that could not be fetched fails every image that lists it.
        var tops: [Top] = []
        var failures: [(image: String, error: RegistryError)] = []
        for i in images.indices {
            switch state.tops[i] {
            case .failure(.images(let some))?:
                failures += some
            case .success(let top)?:
                let missing = ImageLayout.closure(of: [top.entry], read: store.readManifest).gaps
                if missing.isEmpty { tops.append(top) }
                for gap in missing {
                    guard case .images(let some)? = state.manifestFailures[gap.digest], let first = some.first else {
                        // Proven into the store just before; a gap means it changed under us.
                        throw ImagePullError.layout(.invalid(path: store.blobPath(gap.digest), reason: gap.description))
                    }
                    failures.append((images[i].reference.description, first.error))
                }
            default:
                break
            }
        }
        let entries = tops.map(\.entry)

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

        // Manifests: fetched in this run (once, whichever image asked), made here, or proven there.
        let fetchedManifests = state.fetchedManifests
        let writtenManifests = Set(tops.compactMap(\.written))
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
        let stored = tops.map { image in
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

    /// A job of the pull's pool.
    enum PullJob: Sendable {
        /// The manifest or index images.lock pins for the image at this index of images.lock.
        case image(Int)
        /// A manifest an index of image `image` lists, `depth` indexes down (1: the top index's).
        case manifest(OCIDescriptor, image: Int, depth: Int)
        /// One blob, fetched from the repository of `source` (an image that needs it).
        case blob(ImageLayout.Blob, source: ImageReference)

        /// What transfer slot `worker` takes next. Odd slots: manifests first (images.lock's
        /// order, an image's top before the manifests its index lists), they name the blobs; then
        /// the smallest blob. Even slots: the largest blob first, then manifests. So the largest
        /// blobs start as soon as they are known and never run alone at the end, discovery goes
        /// on beside them, and the small blobs (a config: one round trip, hardly any bytes) go
        /// alongside the large ones, not all together at the end when nothing else would use
        /// the bandwidth.
        @Sendable static func pick(_ waiting: [PullJob], worker: Int) -> Int {
            var best = 0
            for i in waiting.indices.dropFirst() where waiting[i].runsBefore(waiting[best], largestBlobFirst: worker % 2 == 0) {
                best = i
            }
            return best
        }

        private func runsBefore(_ other: PullJob, largestBlobFirst: Bool) -> Bool {
            switch (blob, other.blob) {
            case (nil, nil): return manifestOrder < other.manifestOrder
            case (nil, _?): return !largestBlobFirst
            case (_?, nil): return largestBlobFirst
            case let (a?, b?):
                if a.size == b.size { return a.digest < b.digest }
                return largestBlobFirst == (a.size > b.size)
            }
        }

        private var blob: ImageLayout.Blob? {
            if case let .blob(blob, _) = self { return blob }
            return nil
        }

        /// Manifests by image, then depth (the top first), then digest.
        private var manifestOrder: (Int, Int, String) {
            switch self {
            case .image(let i): return (i, 0, "")
            case let .manifest(descriptor, i, depth): return (i, depth, descriptor.digest)
            case .blob: return (Int.max, 0, "")
            }
        }
    }

    /// What the pool has done so far.
    struct PullRun: Sendable {
        /// Each image's top manifest or index, by its index in images.lock (absent: not started).
        var tops: [Int: Result<Top, ImagePullError>] = [:]
        /// The manifests below the images' tops queued (each once for the whole pull), and why
        /// those that could not be put in the store failed.
        var queuedManifests: Set<String> = []
        var manifestFailures: [String: ImagePullError] = [:]
        /// The manifests downloaded in this run (the others were proven in the store).
        var fetchedManifests: Set<String> = []
        /// The blobs queued (each once for the whole pull), and what came of those that ran.
        var queued: Set<String> = []
        var blobs: [String: Result<(fetched: Bool, bytes: Int64), RegistryError>] = [:]
        /// Set on an interruption or a failure that ends the pull (no platform wanted): no job starts after it.
        var stopped = false

        /// Of `blobs`, those not queued yet (now queued).
        mutating func newBlobs(_ blobs: [ImageLayout.Blob]) -> [ImageLayout.Blob] {
            blobs.filter { queued.insert($0.digest).inserted }
        }

        /// Of `manifests`, those not queued yet (now queued).
        mutating func newManifests(_ manifests: [OCIDescriptor]) -> [OCIDescriptor] {
            manifests.filter { queuedManifests.insert($0.digest).inserted }
        }
    }

    /// `body`'s result, its failures sorted: a registry's answer names the image `reference`.
    static func attempt<T>(_ reference: ImageReference, store: ImageLayout, _ body: () throws -> T) -> Result<T, ImagePullError> {
        do {
            return .success(try body())
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

    /// An image's top manifest or index, in the store: its index.json entry, and what is below it.
    struct Top: Sendable {
        let entry: ImageLayout.Entry
        /// The platforms carried (`os/architecture[/variant]`); empty for a single manifest.
        let platforms: [String]
        /// Whether the manifest images.lock pins was downloaded in this run (not proven in the store).
        let fetched: Bool
        /// The filtered index written for it (made here, neither fetched nor reused).
        let written: String?
        /// The manifests its index lists (those of the platforms carried), to fetch next.
        let children: [OCIDescriptor]
        /// The config and layers its manifest names.
        let blobs: [ImageLayout.Blob]

        /// The digest images.lock pins.
        var sourceDigest: String { entry.sourceDigest }
    }

    /// A manifest an index lists, in the store: what is below it.
    struct Child: Sendable {
        let fetched: Bool
        let children: [OCIDescriptor]
        let blobs: [ImageLayout.Blob]
    }

    /// Puts the manifest or index `reference` pins in the store, proven (and, for an index
    /// narrowed to `platforms`, the filtered index beside it); the manifests it lists come next,
    /// each a job of its own (`child`).
    static func top(_ reference: ImageReference, platforms: [ChartList.ImageSettings.Platform], store: ImageLayout,
                    client: RegistryClient) throws -> Top {
        guard let digest = reference.digest else {
            throw RegistryError.invalidReference(image: reference.description, reason: "images.lock does not pin its digest")
        }
        let top = try manifest(digest, of: reference, store: store, client: client)
        var children = top.manifest.manifests
        var entryDescriptor = OCIDescriptor(mediaType: top.manifest.mediaType, digest: digest, size: Int64(top.bytes.count))
        var carried: [String] = []
        var written: String?
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
                    try write(filtered, to: store.blobPath(filteredDigest), registry: reference.registry)
                    written = filteredDigest
                    entryDescriptor = OCIDescriptor(mediaType: top.manifest.mediaType, digest: filteredDigest,
                                                    size: Int64(filtered.count),
                                                    annotations: [ImageLayout.sourceDigestAnnotation: digest])
                    children = kept
                }
            }
            carried = children.compactMap(\.platform).map(ImageLayout.platformName)
        }
        let name = ImageLayout.refName(reference)
        return Top(entry: ImageLayout.Entry(reference: name, descriptor: entryDescriptor), platforms: carried,
                   fetched: top.fetched, written: written, children: children, blobs: blobs(of: top.manifest, image: name))
    }

    /// Puts the manifest `descriptor` names (listed by an index of `reference`, `depth` indexes
    /// down) in the store, proven.
    static func child(_ descriptor: OCIDescriptor, depth: Int, of reference: ImageReference, store: ImageLayout,
                      client: RegistryClient) throws -> Child {
        guard depth <= 8 else {
            throw RegistryError.malformedResponse(registry: reference.registry, url: reference.description,
                                                  reason: "indexes nest more than 8 deep")
        }
        let fetched = try manifest(descriptor.digest, of: reference, store: store, client: client)
        return Child(fetched: fetched.fetched, children: fetched.manifest.manifests,
                     blobs: blobs(of: fetched.manifest, image: ImageLayout.refName(reference)))
    }

    /// The manifest `digest` of `reference`'s repository: from the store when proven there, else
    /// fetched (proven against the digest) and written there.
    static func manifest(_ digest: String, of reference: ImageReference, store: ImageLayout, client: RegistryClient)
        throws -> (bytes: [UInt8], manifest: OCIManifest, fetched: Bool) {
        let path = store.blobPath(digest)
        if let stored = try? FileSystem.readFile(path, limit: Int(RegistryClient.manifestSizeLimit)),
           Digest(bytes: SHA256.hash(data: stored)).prefixed == digest,
           let decoded = try? OCIManifest.parse(stored) {
            return (stored, decoded, false)
        }
        let answer = try client.manifest(registry: reference.registry, repository: reference.repository, reference: digest)
        try write(answer.bytes, to: path, registry: reference.registry)
        return (answer.bytes, answer.manifest, true)
    }

    /// Writes `content` at `path` unless it is there already.
    static func write(_ content: [UInt8], to path: String, registry: String) throws {
        guard !FileSystem.isRegularFile(path) || (try? FileSystem.readFile(path, limit: content.count + 1)) != content else { return }
        do {
            try FileSystem.writeAtomically(content, to: path)
        } catch {
            throw RegistryError.transport(registry: registry, .io(path: path, message: error.description))
        }
    }

    /// The config and the layers `manifest` names (foreign and non-distributable layers left out:
    /// the pull reports them once the store is complete).
    static func blobs(of manifest: OCIManifest, image: String) -> [ImageLayout.Blob] {
        let layers = manifest.layers.filter { !ImageLayout.nonDistributableLayerTypes.contains($0.mediaType) }
        return ([manifest.config].compactMap { $0 } + layers).map {
            ImageLayout.Blob(digest: $0.digest, size: $0.size, mediaType: $0.mediaType, isManifest: false, images: [image])
        }
    }
}
