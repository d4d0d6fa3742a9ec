import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// Where `chartsync push` writes: a registry (`HOST[:PORT]`) and a path prefix (`PREFIX`, maybe
/// empty). Charts go to `HOST/PREFIX/<chart>:<version>`; images to `HOST/PREFIX/<repository>`
/// (the source registry's host left out), or `HOST/PREFIX/<source host>/<repository>` with
/// `keepSourceRegistry` (`:` of a port written `-`).
public struct PushTarget: Sendable, Equatable, CustomStringConvertible {
    /// The registry as image references name it.
    public let registry: String
    /// The path every repository is put under; "" for none.
    public let prefix: String

    /// Reads `HOST[:PORT][/PREFIX]` (an `oci://` in front is allowed).
    public init(parsing text: String) throws(PushError) {
        var rest = Substring(text)
        if rest.lowercased().hasPrefix("oci://") { rest = rest.dropFirst(6) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let host = String(parts.first ?? "")
        let prefix = parts.count > 1 ? String(parts[1]) : ""
        guard !host.isEmpty, (try? ImageReference(parsing: host + "/x"))?.registry == host else {
            throw .invalidTarget(text: text, reason: "\"\(host)\" is not a registry host such as harbor.example.com or 127.0.0.1:5000")
        }
        if !prefix.isEmpty, let reason = RegistryClient.repositoryProblem(prefix + "/x") {
            throw .invalidTarget(text: text, reason: "the path \"\(prefix)\" \(reason)")
        }
        registry = host
        self.prefix = prefix
    }

    /// `PREFIX/<path>` (or `<path>` without a prefix).
    public func repository(_ path: String) -> String {
        prefix.isEmpty ? path : prefix + "/" + path
    }

    /// Where an image from `source` goes.
    public func imageRepository(_ source: ImageReference, keepSourceRegistry: Bool) -> String {
        guard keepSourceRegistry else { return repository(source.repository) }
        let host = source.registry.lowercased().replacing(":", with: "-")
        return repository(host + "/" + source.repository)
    }

    public var description: String { prefix.isEmpty ? registry : registry + "/" + prefix }
}

/// How to push.
public struct PushOptions: Sendable {
    /// The registry and prefix.
    public var target: PushTarget
    /// Blobs sent at once.
    public var jobs: Int
    /// Replace a tag that names other content (never done otherwise).
    public var overwrite: Bool
    /// Keep the source registry's host in image paths.
    public var keepSourceRegistry: Bool
    /// Speak plain HTTP to the registry.
    public var plainHTTP: Bool
    /// The registry's credentials (nil: what `docker login`/`helm registry login` stored, else anonymous).
    public var credentials: Credentials?
    /// TLS, proxies, retries.
    public var transport: TransportOptions
    /// `DOCKER_CONFIG` and `HOME`, for the stored logins.
    public var environment: [String: String]
    /// The entry time of charts packaged from charts/custom directories (SOURCE_DATE_EPOCH; 0 by default).
    public var packagedChartTime: Int64

    /// Creates options.
    public init(target: PushTarget, jobs: Int = 8, overwrite: Bool = false, keepSourceRegistry: Bool = false,
                plainHTTP: Bool = false, credentials: Credentials? = nil, transport: TransportOptions = .init(),
                environment: [String: String] = [:], packagedChartTime: Int64 = 0) {
        self.packagedChartTime = packagedChartTime
        self.target = target
        self.jobs = max(1, jobs)
        self.overwrite = overwrite
        self.keepSourceRegistry = keepSourceRegistry
        self.plainHTTP = plainHTTP
        self.credentials = credentials
        self.transport = transport
        self.environment = environment
    }
}

/// One chart or image as pushed.
public struct PushedArtifact: Sendable, Equatable {
    /// Chart or image.
    public enum Kind: String, Sendable { case chart, image }
    /// What happened to its tag.
    public enum Status: String, Sendable {
        /// The tag was created.
        case pushed
        /// The tag already named this digest: nothing sent.
        case unchanged
        /// The tag named other content and `--overwrite` replaced it.
        case overwritten
    }

    /// Chart or image.
    public let kind: Kind
    /// Where it came from: `charts/external/<file>` for a chart, the image's reference for an image.
    public let source: String
    /// `HOST/REPOSITORY:TAG` (or `@digest` for an image without tag).
    public let target: String
    /// The manifest digest the tag names.
    public let digest: String
    /// What happened.
    public let status: Status
}

/// What a push did.
public struct PushReport: Sendable {
    /// Every chart and image, charts first, each sorted.
    public let artifacts: [PushedArtifact]
    /// Blobs uploaded and their bytes; mounted from another repository; already there.
    public let uploaded: Int
    public let uploadedBytes: Int64
    public let mounted: Int
    public let present: Int
}

/// Why a push did not complete.
public enum PushError: ChartSyncFailure, CustomStringConvertible {
    /// `--registry` is not `HOST[:PORT][/PREFIX]`.
    case invalidTarget(text: String, reason: String)
    /// The source is not a delivery chartsync can push (no versions.lock, a chart it cannot read).
    case source(String)
    /// A file of the delivery does not match what it must be.
    case notProven([String])
    /// Pushes that failed, each naming the chart, image or blob.
    case failures([(subject: String, error: RegistryError)])
    /// The bundle read again for the upload is not the bundle proven by the first pass.
    case bundleChanged(String)
    /// Interrupted; what was pushed stays (a next push sends only what is missing).
    case interrupted

    public var kind: FailureKind {
        switch self {
        case .invalidTarget, .source: return .input
        case .notProven, .bundleChanged: return .verification
        case .failures(let all):
            // A refused tag wins (exit 1), then the first failure's kind.
            if all.contains(where: { if case .tagConflict = $0.error { return true } else { return false } }) { return .verification }
            return all.first?.error.kind ?? .io
        case .interrupted: return .interrupted
        }
    }

    public var description: String {
        switch self {
        case let .invalidTarget(text, reason): return "--registry \(text): \(reason)"
        case .source(let message): return message
        case .notProven(let problems): return "the delivery does not match its locks; nothing was pushed:\n  " + problems.joined(separator: "\n  ")
        case .failures(let all):
            return "\(all.count) push(es) failed:\n  " + all.map { "\($0.subject): \($0.error)" }.joined(separator: "\n  ")
        case .bundleChanged(let message):
            return message + "; the bundle changed while it was pushed: what was sent stays proven, push again from a stable copy"
        case .interrupted: return "interrupted; what was pushed stays, and the next push sends only what is missing"
        }
    }
}

/// Fills a registry (Harbor) with a delivery's charts (as OCI artifacts, as `helm push` writes
/// them) and images (manifests, indexes and blobs as they are, so digests stay), sending only
/// what the registry lacks, never overwriting a tag that names other content unless told to,
/// never deleting anything. The delivery is an extracted directory, or a bundle read in two
/// streaming passes without writing its payload anywhere (``BundlePush``); both plans feed the
/// same stages: blobs, then manifests and tags.
public struct Pusher: Sendable {
    /// Where the delivery comes from.
    public enum Source: Sendable, Equatable {
        /// An extracted site directory or a project (versions.lock, charts/, images/).
        case directory(String)
        /// A bundle (the file, or `FILE.000` of a split one), proven as `verify BUNDLE` proves it,
        /// its signature checked against `trustedKey` when one is given.
        case bundle(path: String, trustedKey: String?)
    }

    /// The delivery.
    public let source: Source
    let onEvent: ChartSyncEventHandler?
    private let onRegistryEvent: (@Sendable (TransportEvent) -> Void)?
    /// Set it to stop (from a signal handler).
    public let cancellation: Cancellation

    /// Creates a pusher for the delivery at `source`.
    public init(source: Source, cancellation: Cancellation = Cancellation(), onEvent: ChartSyncEventHandler? = nil,
                onRegistryEvent: (@Sendable (TransportEvent) -> Void)? = nil) {
        self.source = source
        self.cancellation = cancellation
        self.onEvent = onEvent
        self.onRegistryEvent = onRegistryEvent
    }

    /// Creates a pusher for the extracted delivery (or project) at `root`.
    public init(root: String, cancellation: Cancellation = Cancellation(), onEvent: ChartSyncEventHandler? = nil,
                onRegistryEvent: (@Sendable (TransportEvent) -> Void)? = nil) {
        self.init(source: .directory(root), cancellation: cancellation, onEvent: onEvent, onRegistryEvent: onRegistryEvent)
    }

    /// One manifest to put: into `repository`, under `reference` (a tag, or its digest).
    struct ManifestPush: Sendable {
        let kind: PushedArtifact.Kind
        let source: String
        let repository: String
        let tag: String?
        let digest: String
        let bytes: [UInt8]
        let mediaType: String
        /// Manifests it names that must be there first (an index's children), by digest.
        let children: [(digest: String, bytes: [UInt8], mediaType: String)]
    }

    /// Where a blob's bytes are.
    enum BlobContent: Sendable, Equatable {
        /// At hand: in memory, or a file read as it is sent.
        case body(RequestBody)
        /// The payload entry at this path of the bundle being pushed (streamed in its second pass).
        case entry(String)
    }

    /// One blob and the repositories that need it.
    struct BlobPush: Sendable {
        let digest: String
        let size: Int64
        let content: BlobContent
        var repositories: [String]
        let subject: String
        /// A repository of the registry known to hold it (its tag names a manifest that needs it).
        var mountSource: String? = nil
    }

    /// What the blob stages did.
    struct BlobCounts {
        var uploaded = 0, mounted = 0, present = 0
        var uploadedBytes: Int64 = 0
        var failures: [(subject: String, error: RegistryError)] = []

        mutating func add(_ outcome: BlobPushOutcome) {
            switch outcome {
            case .present: present += 1
            case .mounted: mounted += 1
            case .uploaded(let bytes): uploaded += 1; uploadedBytes += bytes
            }
        }
    }

    /// Pushes everything.
    public func push(_ options: PushOptions) throws -> PushReport {
        switch source {
        case .directory(let root):
            // Charts packaged from charts/custom directories live here until they are pushed, never in the delivery.
            let scratch: String
            do {
                scratch = try FileSystem.makeTemporaryDirectory(prefix: "chartsync-push")
            } catch {
                throw PushError.source(error.description)
            }
            defer { FileSystem.removeTree(scratch) }
            let plan = try plan(root: root, options, scratch: scratch)
            return try send(plan, options, client: client(options), streamed: nil)
        case let .bundle(path, trustedKey):
            let bundle = BundlePush(path: path, trustedKey: trustedKey, pusher: self)
            let plan = try bundle.firstPass(options)
            return try send(plan, options, client: client(options), streamed: bundle.send)
        }
    }

    /// The registry client for `options`: the target's endpoint with its credentials (given, else
    /// what `docker login`/`helm registry login` stored, else anonymous).
    private func client(_ options: PushOptions) -> RegistryClient {
        var credentials = options.credentials
        if credentials == nil {
            credentials = (try? RegistryConfigCredentials.load(environment: options.environment))?[options.target.registry]
        }
        return RegistryClient(
            endpoints: [options.target.registry: RegistryEndpoint(plainHTTP: options.plainHTTP, credentials: credentials,
                                                                  transport: options.transport)],
            defaultEndpoint: RegistryEndpoint(transport: options.transport), onEvent: onRegistryEvent,
            cancellation: cancellation)
    }

    /// The stages every source shares: the blobs at hand (each sent once, then mounted into the
    /// other repositories that need it), the streamed blobs through `streamed`, then the manifests
    /// and tags.
    private func send(_ plan: PushPlan, _ options: PushOptions, client: RegistryClient,
                      streamed: ((_ blobs: [BlobPush], _ client: RegistryClient, _ options: PushOptions) throws -> BlobCounts)?)
        throws -> PushReport {
        let registry = options.target.registry
        let cancellation = cancellation
        let onEvent = onEvent

        // Tags first. A tag that names the digest already is done: a registry accepts a manifest
        // only once the blobs and manifests it names are in the repository, so nothing of it is
        // asked about again (a second push costs a request per tag, not per blob). A tag naming
        // other content is refused (unless --overwrite) before anything is sent for it.
        let overwrite = options.overwrite
        // A HEAD each, all at once up to 32: a second push of the same delivery is only these.
        let tags = WorkerPool.map(plan.manifests, threads: max(options.jobs, min(plan.manifests.count, 32))) { item -> Result<String?, PushError> in
            guard !cancellation.isCancelled else { return .failure(.interrupted) }
            do throws(RegistryError) {
                return .success(try client.existingManifest(registry: registry, repository: item.repository,
                                                            tag: item.tag ?? item.digest))
            } catch {
                if case .cancelled = error { return .failure(.interrupted) }
                return .failure(.failures([(item.source, error)]))
            }
        }
        var refused: [(subject: String, error: RegistryError)] = []   // reported once the rest is pushed
        var statuses: [PushedArtifact.Status?] = []   // per manifest; nil: refused
        for (item, tag) in zip(plan.manifests, tags) {
            switch tag {
            case .success(let existing):
                if existing == nil {
                    statuses.append(.pushed)
                } else if existing == item.digest {
                    statuses.append(.unchanged)
                } else if overwrite {
                    statuses.append(.overwritten)
                } else {
                    let shown = registry + "/" + item.repository + (item.tag.map { ":" + $0 } ?? "@" + item.digest)
                    refused.append((item.source, .tagConflict(image: shown, existing: existing!, pushing: item.digest)))
                    statuses.append(nil)
                }
            case .failure(.failures(let some)): refused += some; statuses.append(nil)
            case .failure(let other): throw other
            }
        }
        // A repository gets blobs only for a manifest still to push (several tags may share it).
        // One whose tag is current holds the blob already: the others mount it from there (a mount
        // the registry cannot do starts an ordinary upload).
        let active = Set(zip(plan.manifests, statuses).filter { $0.1 == .pushed || $0.1 == .overwritten }.map(\.0.repository))
        let current = Set(zip(plan.manifests, statuses).filter { $0.1 == .unchanged }.map(\.0.repository))
        let needed = plan.blobs.compactMap { blob -> BlobPush? in
            var blob = blob
            blob.mountSource = blob.repositories.first { current.contains($0) && !active.contains($0) }
            blob.repositories.removeAll { !active.contains($0) }
            return blob.repositories.isEmpty ? nil : blob
        }
        let atHand = needed.filter { if case .body = $0.content { return true } else { return false } }
        let fromStream = needed.filter { if case .entry = $0.content { return true } else { return false } }

        let outcomes = WorkerPool.map(atHand, threads: options.jobs) { blob -> Result<[BlobPushOutcome], PushError> in
            guard case .body(let content) = blob.content else { return .success([]) }
            var done: [BlobPushOutcome] = []
            for (i, repository) in blob.repositories.enumerated() {
                guard !cancellation.isCancelled else { return .failure(.interrupted) }
                do throws(RegistryError) {
                    let outcome = try client.pushBlob(registry: registry, repository: repository, digest: blob.digest,
                                                      content: content,
                                                      mountFrom: i == 0 ? blob.mountSource : blob.mountSource ?? blob.repositories[0])
                    onEvent?(.blobPushed(digest: blob.digest, repository: repository, outcome: outcome))
                    done.append(outcome)
                } catch {
                    if case .cancelled = error { return .failure(.interrupted) }
                    return .failure(.failures([("\(blob.subject): blob \(blob.digest) to \(registry)/\(repository)", error)]))
                }
            }
            return .success(done)
        }
        var counts = BlobCounts()
        for outcome in outcomes {
            switch outcome {
            case .success(let all): all.forEach { counts.add($0) }
            case .failure(.failures(let some)): counts.failures += some
            case .failure(let other): throw other
            }
        }
        if !fromStream.isEmpty, let streamed {
            let more = try streamed(fromStream, client, options)
            counts.uploaded += more.uploaded
            counts.uploadedBytes += more.uploadedBytes
            counts.mounted += more.mounted
            counts.present += more.present
            counts.failures += more.failures
        }
        var failures = counts.failures
        if !failures.isEmpty { throw PushError.failures(refused + failures) }

        // Manifests: children by digest first, then the tag (as found above: never overwritten silently).
        let pending = zip(plan.manifests, statuses).compactMap { item, status in status.map { (item, $0) } }
        let results = WorkerPool.map(pending, threads: options.jobs) { item, status -> Result<PushedArtifact, PushError> in
            guard !cancellation.isCancelled else { return .failure(.interrupted) }
            let shown = registry + "/" + item.repository + (item.tag.map { ":" + $0 } ?? "@" + item.digest)
            do {
                if status != .unchanged {
                    for child in item.children
                    where try client.existingManifest(registry: registry, repository: item.repository, tag: child.digest) == nil {
                        try client.pushManifest(registry: registry, repository: item.repository, reference: child.digest,
                                                bytes: child.bytes, mediaType: child.mediaType)
                    }
                    try client.pushManifest(registry: registry, repository: item.repository, reference: item.tag ?? item.digest,
                                            bytes: item.bytes, mediaType: item.mediaType)
                }
                let artifact = PushedArtifact(kind: item.kind, source: item.source, target: shown, digest: item.digest, status: status)
                onEvent?(.artifactPushed(target: shown, digest: item.digest, status: status.rawValue))
                return .success(artifact)
            } catch let error as RegistryError {
                if case .cancelled = error { return .failure(.interrupted) }
                return .failure(.failures([(item.source, error)]))
            } catch {
                return .failure(.failures([(item.source, .malformedResponse(registry: registry, url: shown, reason: "\(error)"))]))
            }
        }
        var artifacts: [PushedArtifact] = []
        for result in results {
            switch result {
            case .success(let artifact): artifacts.append(artifact)
            case .failure(.failures(let some)): failures += some
            case .failure(let other): throw other
            }
        }
        if !refused.isEmpty || !failures.isEmpty { throw PushError.failures(refused + failures) }
        artifacts.sort { ($0.kind == .chart ? 0 : 1, $0.target) < ($1.kind == .chart ? 0 : 1, $1.target) }
        return PushReport(artifacts: artifacts, uploaded: counts.uploaded, uploadedBytes: counts.uploadedBytes,
                          mounted: counts.mounted, present: counts.present)
    }

    /// What to push from the directory at `root`: charts of versions.lock proven against it first,
    /// charts/custom tarballs as they are, charts/custom directories packaged into `scratch` first
    /// (``ChartPackager``), the image store's manifests proven against their digests.
    func plan(root: String, _ options: PushOptions, scratch: String) throws -> PushPlan {
        let lockPath = root + "/versions.lock"
        let lock: Lockfile
        do {
            guard let read = try LockfileReader.read(lockPath) else {
                throw PushError.source("\(root) is not a delivery: it has no versions.lock (push an extracted delivery or a project)")
            }
            lock = read
        } catch let error as PushError {
            throw error
        } catch {
            throw PushError.source("\(error)")
        }
        var plan = PushPlan(target: options.target, keepSourceRegistry: options.keepSourceRegistry)

        // Charts: vendored (proven against versions.lock) and custom tarballs.
        var tarballs: [(path: String, shown: String, locked: Lockfile.Entry?)] = lock.entries.map {
            (root + "/charts/external/" + $0.fileName, "charts/external/" + $0.fileName, $0)
        }
        let custom = root + "/charts/custom"
        var directories: [String] = []
        for name in ((try? FileSystem.listDirectory(custom)) ?? []).sorted() where !name.hasPrefix(".") {
            if name.hasSuffix(".tgz") && FileSystem.isRegularFile(custom + "/" + name) {
                tarballs.append((custom + "/" + name, "charts/custom/" + name, nil))
            } else if FileSystem.isDirectory(custom + "/" + name) {
                directories.append("charts/custom/" + name)
            }
        }
        // Directories are packaged as helm package would, reproducibly; a directory that cannot be
        // packaged is an input problem (exit 2), not a mismatch with the locks.
        var unpackable: [String] = []
        for (index, shown) in directories.enumerated() {
            let directory = root + "/" + shown
            do {
                let chartFile = directory + "/Chart.yaml"
                guard FileSystem.isRegularFile(chartFile) else {
                    throw PushError.source("no Chart.yaml (a chart directory needs one, a regular file)")
                }
                let metadata = try ChartMetadata(chartYAML: try FileSystem.readFile(chartFile, limit: 1 << 20), source: shown + "/Chart.yaml")
                let output = scratch + "/\(index)"
                try FileSystem.makeDirectory(output)
                let packaged = try ChartPackager.package(directory: directory, name: metadata.name, version: metadata.version,
                                                         into: output, mtime: options.packagedChartTime, cancellation: cancellation)
                tarballs.append((packaged.path, shown, nil))
            } catch ArchiveError.interrupted {
                throw PushError.interrupted
            } catch {
                unpackable.append("\(shown): \(error)")
            }
        }
        if !unpackable.isEmpty {
            throw PushError.source("cannot package the chart directories of charts/custom; nothing was pushed:\n  "
                                   + unpackable.joined(separator: "\n  "))
        }
        for (path, shown, locked) in tarballs {
            let sha: Digest, size: Int64
            do {
                (sha, size) = try FileSystem.sha256(ofFile: path)
            } catch {
                plan.problems.append(error.description)
                continue
            }
            let archive = Result { () throws(ArchiveError) in try ChartArchive(path: path, cancellation: cancellation) }
            plan.addChart(shown: shown, locked: locked, sha256: sha, size: size, archive: archive,
                          content: .body(.file(path: path, offset: 0, length: size)))
        }

        // Images: the store's index.json, every manifest proven against its digest.
        let store = ImageLayout(root: root + "/images")
        let entries: [ImageLayout.Entry]
        do {
            entries = try store.entries() ?? []
        } catch {
            throw PushError.source(error.description)
        }
        plan.addImages(entries, read: store.readManifest) { blob in
            let path = store.blobPath(blob.digest)
            guard FileSystem.identity(path)?.size == blob.size else { return nil }
            return .body(.file(path: path, offset: 0, length: blob.size))
        }
        try plan.check()
        return plan
    }
}
