import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// How `pull` runs.
public struct PullOptions: Sendable {
    /// Downloads at once.
    public var jobs: Int
    /// Install exactly what versions.lock records (no index is read).
    public var frozen: Bool
    /// Remove everything in charts/external that the new lock does not list.
    public var prune: Bool
    /// TLS and retry settings every repository starts from (its own settings override them).
    public var transport: TransportOptions
    /// The environment credentials are read from (variable names come from the chart list).
    public var environment: [String: String]

    /// Creates options.
    public init(jobs: Int = 16, frozen: Bool = false, prune: Bool = false,
                transport: TransportOptions = TransportOptions(), environment: [String: String] = [:]) {
        self.jobs = jobs
        self.frozen = frozen
        self.prune = prune
        self.transport = transport
        self.environment = environment
    }
}

/// What a pull changed.
public struct PullReport: Sendable {
    /// Charts vendored for the first time.
    public var added: [Lockfile.Entry] = []
    /// Charts whose version or files changed: the old entry (when there was one) and the new.
    public var updated: [(from: Lockfile.Entry, to: Lockfile.Entry)] = []
    /// Charts already in place, proven again.
    public var unchanged: [Lockfile.Entry] = []
    /// Paths removed from charts/external (superseded versions, and with --prune anything unlisted).
    public var removed: [String] = []
    /// Paths in charts/external the lock does not list, left alone (no --prune).
    public var unlisted: [String] = []
    /// Whether versions.lock was (re)written.
    public var lockWritten = false
    /// Bytes downloaded.
    public var downloadedBytes: Int64 = 0
}

/// Turns a chart list into proven files in charts/external and a versions.lock that says exactly
/// what they are. Nothing reaches its final path before every chart is downloaded and proven;
/// on any failure the previous charts/external and versions.lock stay byte-identical.
public final class Puller: Sendable {
    private let layout: ProjectLayout
    private let onEvent: ChartSyncEventHandler?
    /// Set it (from a signal handler) to stop the run; nothing is changed then.
    public let cancellation: Cancellation
    private let makeClient: @Sendable (TransportOptions, Cancellation) -> any HTTPClient
    private let onRegistryEvent: (@Sendable (TransportEvent) -> Void)?

    /// Creates a puller for a project. `makeClient` builds the HTTP client for a repository's
    /// options (defaults to libcurl); `onRegistryEvent` hears the retries, redirects and insecure
    /// TLS of `oci://` repositories' registry clients.
    public init(layout: ProjectLayout, cancellation: Cancellation = Cancellation(),
                onEvent: ChartSyncEventHandler? = nil,
                makeClient: (@Sendable (TransportOptions, Cancellation) -> any HTTPClient)? = nil,
                onRegistryEvent: (@Sendable (TransportEvent) -> Void)? = nil) {
        self.layout = layout
        self.cancellation = cancellation
        self.onEvent = onEvent
        self.onRegistryEvent = onRegistryEvent
        self.makeClient = makeClient ?? { options, cancellation in
            CurlHTTPClient(options: options, cancellation: cancellation)
        }
    }

    /// Runs a pull.
    public func pull(_ list: ChartList, options: PullOptions) throws(PullError) -> PullReport {
        do {
            try ChartListReader.checkFiles(list, source: layout.chartList)
        } catch {
            throw .invalidInput(error.description)
        }
        let created = try layout.prepare()
        var committed = false
        // A pull that changes nothing leaves no empty charts/ or charts/external behind either.
        defer { if !committed { for path in created.reversed() { FileSystem.removeEmptyDirectory(path) } } }
        let lock: DirectoryLock
        do {
            lock = try DirectoryLock(layout.root)
        } catch {
            switch error {
            case .locked(let path): throw .locked(path: path)
            case .fileSystem(let failure): throw .fileSystem(failure)
            }
        }
        defer { withExtendedLifetime(lock) {} }
        removeStaleStaging()
        let old = try readLock()
        let digest = ChartListDigest.of(list)
        let plans: [Plan]
        if options.frozen {
            plans = try frozenPlans(list, lock: old, digest: digest, options: options)
        } else {
            plans = try resolvedPlans(list, old: old, options: options)
        }
        guard !cancellation.isCancelled else { throw .interrupted }

        let staging = try makeStaging()
        defer { FileSystem.removeTree(staging) }
        let outcomes = run(plans, staging: staging, jobs: options.jobs)
        let failures = outcomes.compactMap { outcome -> PullError? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        guard !cancellation.isCancelled else { throw .interrupted }
        if failures.count == 1 { throw failures[0] }
        if failures.count > 1 { throw .several(failures) }
        let results = outcomes.compactMap { try? $0.get() }
        let report = try commit(results, old: old, digest: digest, prune: options.prune)
        committed = true
        return report
    }

    // MARK: - Planning

    /// What to do for one chart.
    struct Plan: Sendable {
        let entry: Lockfile.Entry          // the expected entry (sha256/size/tree may be refined)
        let expected: Digest?              // digest the download must have (nil: allowed without)
        let expectedTree: Digest?          // frozen: the tree the unpacked chart must have
        let fetchURL: String
        let credentials: Credentials?
        let client: any HTTPClient
        let unpack: Bool
        let old: Lockfile.Entry?
        /// The origin the repository's credentials belong to, when it has any.
        let credentialOrigin: String?
        /// Credentials also go to the hosts redirects lead to (`passCredentials`).
        let credentialsFollowRedirects: Bool
        /// For a chart of an `oci://` repository: where its layer is fetched from instead of `fetchURL`.
        var oci: OCISource? = nil
    }

    /// Where a chart of an `oci://` repository comes from.
    struct OCISource: Sendable {
        let client: RegistryClient
        /// `HOST[:PORT]`.
        let registry: String
        /// `PATH/NAME` on the registry.
        let repository: String
        /// The digest of the manifest the version's tag names (the lock's `manifest`).
        let manifest: Digest
        /// The chart layer, when the manifest was already read (nil: `--frozen`, read it by digest).
        let layer: OCIDescriptor?
        /// `oci://HOST/PATH/NAME:TAG`, for messages and the lock.
        let reference: String
    }

    private func readLock() throws(PullError) -> Lockfile? {
        do {
            return try LockfileReader.read(layout.lock)
        } catch {
            throw .invalidInput(error.description)
        }
    }

    private func client(for repository: ChartList.Repository, options: PullOptions) -> any HTTPClient {
        var transport = AccessSettings.transport(repository.access, base: options.transport, root: layout.root,
                                                environment: options.environment)
        if repository.passCredentials { transport.allowCredentialsOnRedirect = true }
        return makeClient(transport, cancellation)
    }

    private func credentials(for repository: ChartList.Repository, options: PullOptions) throws(PullError) -> Credentials? {
        do {
            return try AccessSettings.credentials(repository.access, environment: options.environment, root: layout.root)
        } catch {
            throw .invalidInput("repository \"\(repository.name)\": \(error)")
        }
    }

    /// The registry client of an `oci://` repository: its own access settings, else the
    /// credentials `helm registry login` / `docker login` stored for the host.
    private func registryClient(for repository: ChartList.Repository, options: PullOptions) throws(PullError) -> RegistryClient {
        let registry = repository.ociLocation?.registry ?? ""
        var credentials = try self.credentials(for: repository, options: options)
        if credentials == nil {
            do {
                credentials = try RegistryConfigCredentials.load(environment: options.environment)[registry]
            } catch {
                throw .invalidInput("repository \"\(repository.name)\": \(error)")
            }
        }
        let transport = AccessSettings.transport(repository.access, base: options.transport, root: layout.root,
                                                 environment: options.environment)
        return RegistryClient(endpoints: [registry: RegistryEndpoint(plainHTTP: repository.plainHTTP, credentials: credentials,
                                                                     transport: transport)],
                              defaultEndpoint: RegistryEndpoint(transport: transport), onEvent: onRegistryEvent,
                              cancellation: cancellation)
    }

    /// The registry repository (`PATH/NAME`) of a chart of an `oci://` repository.
    private static func ociRepository(_ repository: ChartList.Repository, chart: String) -> (registry: String, repository: String) {
        let (registry, path) = repository.ociLocation ?? ("", "")
        return (registry, path.isEmpty ? chart : path + "/" + chart)
    }

    private func fetchURL(_ written: String) -> String {
        RepositoryLocation.url(from: written, currentDirectory: layout.root)
    }

    /// The index of every index (non-OCI) repository the chart list uses, fetched once each on a
    /// few threads, only the charts asked of it built; with the clients and credentials used.
    private func fetchIndexes(_ list: ChartList, options: PullOptions) throws(PullError)
        -> (indexes: [String: Result<IndexFile, PullError>], clients: [String: any HTTPClient],
            credentials: [String: Credentials?]) {
        var wanted: [String: Set<String>] = [:]
        for chart in list.charts { wanted[chart.repository, default: []].insert(chart.name) }
        let repositories = list.repositories.filter { wanted[$0.name] != nil && !$0.isOCI }
        var clients: [String: any HTTPClient] = [:]
        var credentials: [String: Credentials?] = [:]
        for r in repositories {
            clients[r.name] = client(for: r, options: options)
            credentials[r.name] = try self.credentials(for: r, options: options)
        }
        let wantedCopy = wanted
        let onEvent = onEvent
        let layoutRoot = layout.root
        let clientsCopy = clients
        let credentialsCopy = credentials
        let fetchedIndexes = WorkerPool.map(repositories, threads: options.jobs) { r -> Result<IndexFile, PullError> in
            let fetcher = IndexFetcher(client: clientsCopy[r.name]!, onEvent: onEvent, maxIndexBytes: 512 << 20)
            let result: Result<IndexFile, PullError>
            do {
                result = .success(try fetcher.fetch(repository: RepositoryLocation.url(from: r.url, currentDirectory: layoutRoot),
                                                    credentials: credentialsCopy[r.name]!, charts: wantedCopy[r.name]))
            } catch let error as TransportError {
                if case .cancelled = error { return .failure(.interrupted) }
                let indexURL = RepositoryURL.index(of: RepositoryLocation.url(from: r.url, currentDirectory: layoutRoot))
                result = .failure(.transport(chart: nil, error, request: indexURL, credentials: credentialsCopy[r.name]! != nil,
                                             followRedirects: r.passCredentials))
            } catch let error as IndexError {
                result = .failure(.index(error))
            } catch let error as FileSystemError {
                result = .failure(.fileSystem(error))
            } catch {
                result = .failure(.invalidInput(String(describing: error)))
            }
            return result
        }
        var fetched: [String: Result<IndexFile, PullError>] = [:]
        for (r, result) in zip(repositories, fetchedIndexes) { fetched[r.name] = result }
        return (fetched, clients, credentials)
    }

    private func resolvedPlans(_ list: ChartList, old: Lockfile?, options: PullOptions) throws(PullError) -> [Plan] {
        // One index fetch per repository, only the charts asked of it built.
        var wanted: [String: Set<String>] = [:]
        for chart in list.charts { wanted[chart.repository, default: []].insert(chart.name) }
        var (fetched, clients, credentials) = try fetchIndexes(list, options: options)
        var plans: [Plan] = []
        var errors = PullError.failures(of: list, in: fetched)
        try PullError.throwIfAny(errors)

        // Charts of oci:// repositories: tags listed and the manifest read per chart, on a few threads.
        var registryClients: [String: RegistryClient] = [:]
        for r in list.repositories where wanted[r.name] != nil && r.isOCI {
            registryClients[r.name] = try registryClient(for: r, options: options)
            clients[r.name] = client(for: r, options: options)
        }
        let ociCharts = list.charts.filter { list.repository(of: $0)!.isOCI }
        let registryClientsCopy = registryClients
        let ociClients = clients
        let ociResults = WorkerPool.map(ociCharts, threads: options.jobs) { chart -> Result<Plan, PullError> in
            let repository = list.repository(of: chart)!
            return Result { () throws(PullError) -> Plan in
                try self.ociPlan(chart, repository: repository, old: old?.entry(named: chart.name),
                                 registryClient: registryClientsCopy[repository.name]!, client: ociClients[repository.name]!)
            }
        }
        var ociPlans: [String: Result<Plan, PullError>] = [:]
        for (chart, result) in zip(ociCharts, ociResults) { ociPlans[chart.name] = result }

        for chart in list.charts {
            let repository = list.repository(of: chart)!
            if let result = ociPlans[chart.name] {
                switch result {
                case .success(let plan): plans.append(plan)
                case .failure(let error): errors.append(error)
                }
                continue
            }
            guard case .success(let index) = fetched[repository.name]! else { continue }
            do {
                plans.append(try plan(chart, repository: repository, index: index, old: old?.entry(named: chart.name),
                                      client: clients[repository.name]!, credentials: credentials[repository.name]!))
            } catch {
                errors.append(error)
            }
        }
        try PullError.throwIfAny(errors)
        return plans
    }

    private func plan(_ chart: ChartList.Chart, repository: ChartList.Repository, index: IndexFile, old: Lockfile.Entry?,
                      client: any HTTPClient, credentials: Credentials?) throws(PullError) -> Plan {
        let shownRepository = RepositoryURL.redacted(repository.url)
        let found = try Self.resolve(chart, in: index, repository: shownRepository,
                                     suggestions: ChartName.nearest(to: chart.name, in: index.names))
        guard let reference = found.urls.first, !reference.isEmpty else {
            throw .noDownloadURL(chart: chart.name, version: found.version)
        }
        let expected = found.digest
        if expected == nil && !chart.allowMissingDigest {
            throw .missingDigest(chart: chart.name, version: found.version, found: found.digestText)
        }
        if let old, let expected, old.version == found.version, old.sha256 != expected {
            throw .digestChanged(chart: chart.name, version: found.version, locked: old.sha256, published: expected)
        }
        let fetchRepository = fetchURL(repository.url)
        let fetch = RepositoryURL.resolve(base: fetchRepository, reference: reference)
        try Self.checkScheme(fetch, from: fetchRepository, chart: chart.name, version: found.version)
        let sendCredentials = RepositoryURL.sameOrigin(fetch, fetchRepository) || repository.passCredentials
        let entry = Lockfile.Entry(
            name: chart.name, version: found.version, constraint: chart.version, repository: shownRepository,
            url: RepositoryURL.redacted(RepositoryURL.resolve(base: repository.url, reference: reference)),
            sha256: expected ?? Digest(bytes: [UInt8](repeating: 0, count: 32)), size: 0)
        return Plan(entry: entry, expected: expected, expectedTree: nil, fetchURL: fetch,
                    credentials: sendCredentials ? credentials : nil, client: client, unpack: chart.unpack, old: old,
                    credentialOrigin: credentials == nil ? nil : fetchRepository,
                    credentialsFollowRedirects: repository.passCredentials)
    }

    /// The version of `chart` its constraint picks from `index` with Helm's rules (index.yaml and
    /// OCI tags alike), or the refusal naming the chart and the repository.
    private static func resolve(_ chart: ChartList.Chart, in index: IndexFile, repository shown: String,
                                suggestions: [String]) throws(PullError) -> ChartVersion {
        var constraint: VersionConstraint?
        if let text = chart.version {
            do { constraint = try VersionConstraint(parsing: text) } catch { throw .invalidInput(error.description) }
        }
        guard !index.versions(of: chart.name).isEmpty else {
            throw .chartNotFound(chart: chart.name, repository: shown, suggestions: suggestions)
        }
        guard let found = index.best(of: chart.name, matching: constraint, includePrerelease: chart.devel) else {
            throw .noMatchingVersion(chart: chart.name, constraint: chart.version ?? "*", repository: shown,
                                     newest: index.versions(of: chart.name).first?.version)
        }
        guard ChartName.isValid(found.version) else { throw .unsafeVersion(chart: chart.name, version: found.version) }
        return found
    }

    /// A chart of an `oci://` repository: its tags read as versions (`_` as `+`, tags that are not
    /// strict semantic versions ignored, as Helm does), the constraint resolved as for an index,
    /// the version's manifest read and checked to be a Helm chart. A constraint that is itself a
    /// version (`1.2.3`, `v1.2`, `1.0.0+build.7`: `OCITag.exact`) names only its own tag, as in
    /// `helm pull --version`: the manifest is read by that tag without listing the tags (one
    /// request less per chart); only when the registry does not know it are the tags listed, for
    /// the same refusal as any constraint gets (the newest version named).
    private func ociPlan(_ chart: ChartList.Chart, repository: ChartList.Repository, old: Lockfile.Entry?,
                         registryClient: RegistryClient, client: any HTTPClient) throws(PullError) -> Plan {
        let shownRepository = RepositoryURL.redacted(repository.url)
        let (registry, path) = Self.ociRepository(repository, chart: chart.name)
        var resolved: (version: String, manifest: Digest, layer: OCIDescriptor, digest: Digest)?
        if let text = chart.version, let tag = OCITag.exact(text), ChartName.isValid(text) {
            let reference = "oci://\(registry)/\(path):\(tag)"
            do {
                let (manifest, layer, digest) = try Self.chartManifest(registryClient, registry: registry, repository: path,
                                                                       reference: tag, chart: chart.name, shown: reference)
                resolved = (text, manifest, layer, digest)
            } catch {
                switch error {
                case .registry(_, .manifestUnknown), .registry(_, .repositoryUnknown): break   // list the tags below
                default: throw error
                }
            }
        }
        if resolved == nil {
            let tags: [String]
            do {
                tags = try registryClient.tags(repository: path, registry: registry)
            } catch {
                if case .repositoryUnknown = error {
                    throw .chartNotFound(chart: chart.name, repository: shownRepository, suggestions: [])
                }
                throw Self.registryFailure(chart: chart.name, error)
            }
            let location = "oci://\(registry)/\(path)"
            let index = IndexFile.tags(tags, of: chart.name, repository: location, version: chart.version)
            if index.versions(of: chart.name).isEmpty,
               let newest = IndexFile.tags(tags, of: chart.name, repository: location).versions(of: chart.name).first {
                // A version asked for exactly whose tag is absent (Helm pulls only that tag).
                throw .noMatchingVersion(chart: chart.name, constraint: chart.version ?? "*", repository: shownRepository,
                                         newest: newest.version)
            }
            let found = try Self.resolve(chart, in: index, repository: shownRepository, suggestions: [])
            let tag = OCITag.of(found.version)
            let (manifest, layer, digest) = try Self.chartManifest(registryClient, registry: registry, repository: path,
                                                                   reference: tag, chart: chart.name,
                                                                   shown: "oci://\(registry)/\(path):\(tag)")
            resolved = (found.version, manifest, layer, digest)
        }
        guard let (version, manifest, layer, digest) = resolved else { preconditionFailure("resolved above") }
        let reference = "oci://\(registry)/\(path):\(OCITag.of(version))"
        if let old, old.version == version, let locked = old.manifest, locked != manifest {
            throw .manifestChanged(chart: chart.name, version: version, reference: reference, locked: locked, published: manifest)
        }
        if let old, old.version == version, old.manifest != nil, old.sha256 != digest {
            throw .digestChanged(chart: chart.name, version: version, locked: old.sha256, published: digest)
        }
        let entry = Lockfile.Entry(name: chart.name, version: version, constraint: chart.version, repository: shownRepository,
                                   url: reference, sha256: digest, size: layer.size, manifest: manifest)
        return Plan(entry: entry, expected: digest, expectedTree: nil, fetchURL: reference, credentials: nil, client: client,
                    unpack: chart.unpack, old: old, credentialOrigin: nil, credentialsFollowRedirects: false,
                    oci: OCISource(client: registryClient, registry: registry, repository: path, manifest: manifest,
                                   layer: layer, reference: reference))
    }

    /// The manifest `reference` (a tag or digest) names, proven, and its chart layer: an image
    /// index wrapping the chart's manifest (as Helm 4 pushes) is followed to its first manifest.
    /// Returns the digest `reference` names, the layer and the layer's SHA-256.
    static func chartManifest(_ client: RegistryClient, registry: String, repository: String, reference: String,
                              chart: String, shown: String) throws(PullError) -> (Digest, OCIDescriptor, Digest) {
        var fetched: FetchedManifest
        do {
            fetched = try client.manifest(registry: registry, repository: repository, reference: reference)
        } catch {
            throw registryFailure(chart: chart, error)
        }
        guard let named = Digest(fetched.digest) else {
            throw .notAChart(chart: chart, reference: shown, reason: "its manifest digest \(fetched.digest) is not sha256")
        }
        if fetched.manifest.isIndex {
            guard let first = fetched.manifest.manifests.first else {
                throw .notAChart(chart: chart, reference: shown, reason: "an empty image index")
            }
            do {
                fetched = try client.manifest(registry: registry, repository: repository, reference: first.digest)
            } catch {
                throw registryFailure(chart: chart, error)
            }
            guard !fetched.manifest.isIndex else {
                throw .notAChart(chart: chart, reference: shown, reason: "an image index of image indexes")
            }
        }
        guard let config = fetched.manifest.config, config.mediaType == OCIManifest.helmConfig else {
            throw .notAChart(chart: chart, reference: shown,
                             reason: "config media type \(fetched.manifest.config?.mediaType ?? "none"), not \(OCIManifest.helmConfig)")
        }
        guard let layer = fetched.manifest.layers.first(where: { $0.mediaType == OCIManifest.helmChartContent })
                ?? fetched.manifest.layers.first(where: { $0.mediaType == "application/tar+gzip" }) else {
            throw .notAChart(chart: chart, reference: shown, reason: "no layer of media type \(OCIManifest.helmChartContent)")
        }
        guard let digest = layer.sha256 else {
            throw .notAChart(chart: chart, reference: shown, reason: "its chart layer's digest \(layer.digest) is not sha256")
        }
        return (named, layer, digest)
    }

    /// A registry failure of a chart, told apart from an interruption.
    static func registryFailure(chart: String, _ error: RegistryError) -> PullError {
        if case .cancelled = error { return .interrupted }
        return .registry(chart: chart, error)
    }

    /// A chart of a remote (http/https) repository is downloaded over http(s) only, whatever
    /// its index says: the index is not trusted to make pull read local files.
    private static func checkScheme(_ url: String, from repository: String, chart: String, version: String) throws(PullError) {
        func isRemote(_ url: String) -> Bool {
            let lower = url.lowercased()
            return lower.hasPrefix("http://") || lower.hasPrefix("https://")
        }
        if isRemote(repository) && !isRemote(url) {
            throw .unsafeDownloadURL(chart: chart, version: version, url: RepositoryURL.redacted(url),
                                     repository: RepositoryURL.redacted(repository))
        }
    }

    private func frozenPlans(_ list: ChartList, lock: Lockfile?, digest: Digest, options: PullOptions) throws(PullError) -> [Plan] {
        guard let lock else { throw .noLock(path: layout.lock) }
        guard lock.chartList == digest else {
            let listed = Set(list.charts.map(\.name)), locked = Set(lock.entries.map(\.name))
            var reasons: [String] = []
            if !listed.subtracting(locked).isEmpty { reasons.append("not locked: " + listed.subtracting(locked).sorted().joined(separator: ", ")) }
            if !locked.subtracting(listed).isEmpty { reasons.append("no longer listed: " + locked.subtracting(listed).sorted().joined(separator: ", ")) }
            if reasons.isEmpty {
                reasons = LockfileCheck.findings(list, lock: lock, listName: FileSystem.baseName(layout.chartList))
                    .filter { $0.code != .chartListChanged }
                    .map { $0.message.components(separatedBy: "; run chartsync pull")[0] }
            }
            if reasons.isEmpty { reasons.append("the chart list changed since the lock was written (devel or allowMissingDigest)") }
            throw .staleLock(path: layout.lock, reason: reasons.joined(separator: "; "))
        }
        var plans: [Plan] = []
        for entry in lock.entries {
            guard let chart = list.charts.first(where: { $0.name == entry.name }), let repository = list.repository(of: chart) else {
                throw .staleLock(path: layout.lock, reason: "chart \"\(entry.name)\" is not in the chart list")
            }
            guard chart.unpack == (entry.tree != nil) else {
                throw .staleLock(path: layout.lock, reason: "chart \"\(entry.name)\": unpack differs")
            }
            guard repository.isOCI == entry.isOCI else {
                throw .staleLock(path: layout.lock, reason: "chart \"\(entry.name)\": the lock records it from \(entry.url)")
            }
            if repository.isOCI {
                // The manifest by the locked digest, then the layer: no tag is listed or trusted.
                guard let manifest = entry.manifest else {
                    throw .staleLock(path: layout.lock, reason: "chart \"\(entry.name)\": no manifest digest recorded")
                }
                let (registry, path) = Self.ociRepository(repository, chart: entry.name)
                plans.append(Plan(entry: entry, expected: entry.sha256, expectedTree: entry.tree, fetchURL: entry.url,
                                  credentials: nil, client: client(for: repository, options: options), unpack: chart.unpack,
                                  old: entry, credentialOrigin: nil, credentialsFollowRedirects: false,
                                  oci: OCISource(client: try registryClient(for: repository, options: options), registry: registry,
                                                 repository: path, manifest: manifest, layer: nil, reference: entry.url)))
                continue
            }
            let fetchRepository = fetchURL(repository.url)
            let fetch = fetchURL(entry.url)
            try Self.checkScheme(fetch, from: fetchRepository, chart: entry.name, version: entry.version)
            let sendCredentials = RepositoryURL.sameOrigin(fetch, fetchRepository) || repository.passCredentials
            let credentials = try credentials(for: repository, options: options)
            plans.append(Plan(entry: entry, expected: entry.sha256, expectedTree: entry.tree, fetchURL: fetch,
                              credentials: sendCredentials ? credentials : nil,
                              client: client(for: repository, options: options), unpack: chart.unpack, old: entry,
                              credentialOrigin: credentials == nil ? nil : fetchRepository,
                              credentialsFollowRedirects: repository.passCredentials))
        }
        return plans
    }

    // MARK: - Fetching and proving

    /// What one chart's work produced: its lock entry and staged paths to move into place.
    struct Outcome: Sendable {
        let entry: Lockfile.Entry
        let old: Lockfile.Entry?
        let stagedFile: String?
        let stagedDirectory: String?
        let downloaded: Int64
    }

    private func makeStaging() throws(PullError) -> String {
        do {
            return try FileSystem.makeTemporaryDirectory(in: layout.charts, prefix: ".chartsync-staging")
        } catch {
            throw .fileSystem(error)
        }
    }

    /// Staging directories left by a run that was killed (we hold the lock, so none is live).
    private func removeStaleStaging() {
        for name in (try? FileSystem.listDirectory(layout.charts)) ?? [] where name.hasPrefix(".chartsync-staging-") {
            FileSystem.removeTree(layout.charts + "/" + name)
        }
    }

    private func run(_ plans: [Plan], staging: String, jobs: Int) -> [Result<Outcome, PullError>] {
        let external = layout.external
        let onEvent = onEvent
        let cancellation = cancellation
        return WorkerPool.map(plans, threads: jobs) { plan in
            if cancellation.isCancelled { return .failure(.interrupted) }
            return Result { () throws(PullError) -> Outcome in
                try Puller.work(plan, staging: staging, external: external, onEvent: onEvent, cancellation: cancellation)
            }
        }
    }

    /// One chart: keep what is already proven in place, else download, prove and stage it.
    private static func work(_ plan: Plan, staging: String, external: String,
                             onEvent: ChartSyncEventHandler?, cancellation: Cancellation) throws(PullError) -> Outcome {
        let name = plan.entry.name, version = plan.entry.version
        let file = external + "/" + plan.entry.fileName
        var entry = plan.entry

        // Already vendored and still proven?
        if let old = plan.old, old.version == version, FileSystem.isRegularFile(file),
           let (digest, size) = try? FileSystem.sha256(ofFile: file), digest == old.sha256, size == old.size,
           plan.expected == nil || plan.expected == digest {
            entry.sha256 = digest
            entry.size = size
            guard plan.unpack else {
                onEvent?(.chartUnchanged(name: name, version: version))
                return Outcome(entry: entry, old: old, stagedFile: nil, stagedDirectory: nil, downloaded: 0)
            }
            let directory = external + "/" + entry.directoryName
            if let tree = old.tree, FileSystem.isDirectory(directory),
               let (current, _) = try? TreeDigest.compute(directory: directory), current == tree,
               plan.expectedTree == nil || plan.expectedTree == current {
                entry.tree = tree
                onEvent?(.chartUnchanged(name: name, version: version))
                return Outcome(entry: entry, old: old, stagedFile: nil, stagedDirectory: nil, downloaded: 0)
            }
            let stagedDirectory = staging + "/" + entry.directoryName
            let top = try checkContent(file, shownAs: file, name: name, version: version, cancellation: cancellation)
            entry.tree = try unpack(file, top: top, into: stagedDirectory, name: name, version: version, expectedTree: plan.expectedTree,
                                    cancellation: cancellation)
            onEvent?(.chartUnpacked(name: name, version: version))
            return Outcome(entry: entry, old: old, stagedFile: nil, stagedDirectory: stagedDirectory, downloaded: 0)
        }

        // Download into staging, prove the bytes, then the content.
        let stagedFile = staging + "/" + entry.fileName
        onEvent?(.downloading(name: name, version: version, url: RepositoryURL.redacted(plan.fetchURL)))
        let result: TransferResult
        if let oci = plan.oci {
            result = try fetchLayer(oci, expected: plan.expected, to: stagedFile, name: name, version: version)
        } else {
            do {
                result = try plan.client.fetch(TransferRequest(url: plan.fetchURL, credentials: plan.credentials), to: stagedFile)
            } catch {
                if case .cancelled = error { throw .interrupted }
                throw .transport(chart: name, error, request: plan.credentialOrigin ?? plan.fetchURL,
                                 credentials: plan.credentialOrigin != nil, followRedirects: plan.credentialsFollowRedirects)
            }
        }
        if let expected = plan.expected, result.sha256 != expected {
            throw .digestMismatch(chart: name, version: version, url: RepositoryURL.redacted(plan.fetchURL),
                                  expected: expected, actual: result.sha256)
        }
        entry.sha256 = result.sha256
        entry.size = result.bytes
        let top = try checkContent(stagedFile, shownAs: RepositoryURL.redacted(plan.fetchURL), name: name, version: version,
                                   cancellation: cancellation)
        var stagedDirectory: String?
        if plan.unpack {
            stagedDirectory = staging + "/" + entry.directoryName
            entry.tree = try unpack(stagedFile, top: top, into: stagedDirectory!, name: name, version: version,
                                    expectedTree: plan.expectedTree, cancellation: cancellation)
        }
        onEvent?(.downloaded(name: name, version: version, bytes: result.bytes, sha256: result.sha256))
        return Outcome(entry: entry, old: plan.old, stagedFile: stagedFile, stagedDirectory: stagedDirectory, downloaded: result.bytes)
    }

    /// Downloads a chart's layer from its registry into `path`, proving its size and digest; with
    /// `--frozen` the layer is read from the manifest fetched by the locked digest first.
    private static func fetchLayer(_ oci: OCISource, expected: Digest?, to path: String, name: String,
                                   version: String) throws(PullError) -> TransferResult {
        let layer: OCIDescriptor
        if let known = oci.layer {
            layer = known
        } else {
            layer = try chartManifest(oci.client, registry: oci.registry, repository: oci.repository,
                                      reference: oci.manifest.prefixed, chart: name, shown: oci.reference).1
        }
        if let expected, let actual = layer.sha256, actual != expected {
            throw .digestMismatch(chart: name, version: version, url: oci.reference, expected: expected, actual: actual)
        }
        do {
            return try oci.client.blob(layer, repository: oci.repository, registry: oci.registry, to: path)
        } catch {
            throw registryFailure(chart: name, error)
        }
    }

    /// The tarball's Chart.yaml must name the chart and version asked for; returns the tarball's
    /// top directory.
    /// Errors name the tarball as `shownAs` (its URL for a download: the staged copy is gone by then).
    private static func checkContent(_ path: String, shownAs: String, name: String, version: String,
                                     cancellation: Cancellation) throws(PullError) -> String {
        let archive: ChartArchive
        do {
            archive = try ChartArchive(path: path, scanAll: false, cancellation: cancellation)
        } catch {
            if cancellation.isCancelled { throw .interrupted }
            throw .badArchive(chart: name, version: version, reason: error.description.replacingOccurrences(of: path, with: shownAs))
        }
        let metadata: ChartMetadata
        do {
            metadata = try ChartMetadata(chartYAML: archive.chartFile, source: archive.directory + "/Chart.yaml")
        } catch {
            throw .contentMismatch(chart: name, version: version, file: name + "-" + version + ".tgz",
                                   found: "something unreadable (\(error.message))")
        }
        guard metadata.name == name, metadata.version == version else {
            throw .contentMismatch(chart: name, version: version, file: name + "-" + version + ".tgz",
                                   found: "\"\(metadata.name)\" \(metadata.version)")
        }
        return archive.directory
    }

    private static func unpack(_ archive: String, top: String, into directory: String, name: String, version: String,
                               expectedTree: Digest?, cancellation: Cancellation) throws(PullError) -> Digest {
        // Some charts are packed as "./Chart.yaml" ...; the extractor takes "./" for any top name.
        let top = top == "." ? name : top
        let extracted: ExtractedChart
        do {
            extracted = try ChartExtractor.extract(archive: archive, into: directory, topDirectory: top, cancellation: cancellation)
        } catch {
            if cancellation.isCancelled { throw .interrupted }
            throw .badArchive(chart: name, version: version, reason: error.description)
        }
        if let expectedTree, extracted.treeDigest != expectedTree {
            throw .treeMismatch(chart: name, version: version, expected: expectedTree, actual: extracted.treeDigest)
        }
        return extracted.treeDigest
    }

    // MARK: - Committing

    /// Moves every staged file into place, writes the lock if it changed, then removes superseded
    /// versions (and, with prune, whatever the new lock does not list).
    private func commit(_ outcomes: [Outcome], old: Lockfile?, digest: Digest, prune: Bool) throws(PullError) -> PullReport {
        var report = PullReport()
        let lock = Lockfile(chartList: digest, entries: outcomes.map(\.entry))
        let text = Array(LockfileCoding.text(lock).utf8)
        let lockChanged = (try? FileSystem.readFile(layout.lock)) != text
        do {
            for outcome in outcomes {
                // A frozen pull into an empty charts/external adds what was never there.
                let wasThere = FileSystem.exists(layout.external + "/" + outcome.entry.fileName)
                    || FileSystem.exists(layout.external + "/" + outcome.entry.directoryName)
                if let staged = outcome.stagedFile {
                    try FileSystem.move(staged, to: layout.external + "/" + outcome.entry.fileName)
                }
                if let staged = outcome.stagedDirectory {
                    let target = layout.external + "/" + outcome.entry.directoryName
                    if FileSystem.exists(target) {
                        try FileSystem.move(target, to: staged + ".old")
                    }
                    try FileSystem.move(staged, to: target)
                }
                report.downloadedBytes += outcome.downloaded
                if outcome.stagedFile == nil && outcome.stagedDirectory == nil {
                    report.unchanged.append(outcome.entry)
                } else if let previous = outcome.old, wasThere || previous.version != outcome.entry.version {
                    report.updated.append((previous, outcome.entry))
                } else {
                    report.added.append(outcome.entry)
                }
            }
            FileSystem.syncDirectory(layout.external)
            if lockChanged {
                try FileSystem.writeAtomically(text, to: layout.lock)
                report.lockWritten = true
            }
        } catch {
            throw .fileSystem(error)
        }
        // Superseded versions of charts still listed go; unlisted paths go only with prune.
        let keep = Set(lock.entries.flatMap { [$0.fileName, $0.directoryName] })
        var superseded = Set<String>()
        for entry in old?.entries ?? [] where lock.entry(named: entry.name) != nil {
            superseded.formUnion([entry.fileName, entry.directoryName])
        }
        for name in (try? FileSystem.listDirectory(layout.external)) ?? [] where !name.hasPrefix(".") && !keep.contains(name) {
            if prune || superseded.contains(name) {
                FileSystem.removeTree(layout.external + "/" + name)
                report.removed.append("charts/external/" + name)
                onEvent?(.removed(path: "charts/external/" + name))
            } else {
                report.unlisted.append("charts/external/" + name)
            }
        }
        FileSystem.syncDirectory(layout.external)
        return report
    }
}

/// What a repository offers for one chart of the chart list.
public struct AvailableVersions: Sendable {
    /// The newest version the chart's constraint admits (Helm's rules; an exact version only itself).
    public let wanted: ChartVersion?
    /// The newest version there is (prereleases only with `devel`).
    public let latest: ChartVersion?
}

extension Puller {
    /// For every chart of `list`: the newest version its constraint admits and the newest there
    /// is, from one index fetch per index repository and one tag list per OCI chart, nothing
    /// downloaded or written. A repository or registry that cannot be read fails the whole call.
    public func availableVersions(_ list: ChartList, options: PullOptions) throws(PullError) -> [String: AvailableVersions] {
        let (fetched, _, _) = try fetchIndexes(list, options: options)
        var errors = PullError.failures(of: list, in: fetched)
        var registryClients: [String: RegistryClient] = [:]
        for r in list.repositories where r.isOCI && list.charts.contains(where: { $0.repository == r.name }) {
            registryClients[r.name] = try registryClient(for: r, options: options)
        }
        let ociCharts = list.charts.filter { list.repository(of: $0)?.isOCI == true }
        let clients = registryClients
        let tagLists = WorkerPool.map(ociCharts, threads: options.jobs) { chart -> Result<[String], PullError> in
            let repository = list.repository(of: chart)!
            let (registry, path) = Self.ociRepository(repository, chart: chart.name)
            do throws(RegistryError) {
                return .success(try clients[repository.name]!.tags(repository: path, registry: registry))
            } catch {
                if case .repositoryUnknown = error {
                    return .failure(.chartNotFound(chart: chart.name, repository: RepositoryURL.redacted(repository.url), suggestions: []))
                }
                return .failure(Self.registryFailure(chart: chart.name, error))
            }
        }
        var tags: [String: [String]] = [:]
        for (chart, result) in zip(ociCharts, tagLists) {
            switch result {
            case .success(let list): tags[chart.name] = list
            case .failure(let error): errors.append(error)
            }
        }
        try PullError.throwIfAny(errors)
        var result: [String: AvailableVersions] = [:]
        for chart in list.charts {
            guard let repository = list.repository(of: chart) else { continue }
            let constraint = chart.version.flatMap { try? VersionConstraint(parsing: $0) }
            let all: IndexFile, admitted: IndexFile
            if repository.isOCI {
                let location = "oci://" + Self.ociRepository(repository, chart: chart.name).registry
                all = IndexFile.tags(tags[chart.name] ?? [], of: chart.name, repository: location)
                admitted = IndexFile.tags(tags[chart.name] ?? [], of: chart.name, repository: location, version: chart.version)
            } else {
                guard case .success(let index)? = fetched[repository.name] else { continue }
                all = index
                admitted = index
            }
            result[chart.name] = AvailableVersions(
                wanted: chart.version != nil && constraint == nil ? nil
                    : admitted.best(of: chart.name, matching: constraint, includePrerelease: chart.devel),
                latest: all.best(of: chart.name, matching: nil, includePrerelease: chart.devel))
        }
        return result
    }
}

extension Puller {
    /// Downloads `version` (nil: the version the chart's constraint resolves to, as `pull` would
    /// take it) of the listed chart `name` from its repository into `directory` (as
    /// `<name>-<version>.tgz`), proven as `pull` proves it: the index's digest, or the manifest
    /// and layer digests of an `oci://` repository, then Chart.yaml's name and version. The
    /// repository's access settings are the chart list's (relative credential and TLS files
    /// against the project root). Nothing of the project is read or written: no lock, no
    /// charts/external. Returns the entry a lock would record for it.
    public func fetch(chart name: String, version: String?, of list: ChartList, into directory: String,
                      options: PullOptions) throws(PullError) -> Lockfile.Entry {
        guard var chart = list.charts.first(where: { $0.name == name }), let repository = list.repository(of: chart) else {
            throw .invalidInput("chart \"\(name)\" is not in the chart list")
        }
        if let version {
            // The version itself as the constraint: its exact text (index) or its own tag (OCI).
            chart.version = version
            chart.devel = true
        }
        chart.unpack = false
        let pinned = ChartList(repositories: [repository], charts: [chart])
        let plans = try resolvedPlans(pinned, old: nil, options: options)
        guard let plan = plans.first, version == nil || plan.entry.version == version else {
            throw .noMatchingVersion(chart: name, constraint: version ?? "*", repository: RepositoryURL.redacted(repository.url),
                                     newest: plans.first?.entry.version)
        }
        guard !cancellation.isCancelled else { throw .interrupted }
        // No old entry: nothing is taken from charts/external, everything is downloaded.
        let outcome = try Puller.work(plan, staging: directory, external: directory, onEvent: onEvent, cancellation: cancellation)
        return outcome.entry
    }
}

extension PullError {
    /// The index fetches that failed, in the chart list's repository order.
    fileprivate static func failures(of list: ChartList, in fetched: [String: Result<IndexFile, PullError>]) -> [PullError] {
        list.repositories.compactMap { repository in
            if case .failure(let error) = fetched[repository.name] { return error }
            return nil
        }
    }

    /// Throws the one error, or all of them as `.several`; nothing when there is none.
    fileprivate static func throwIfAny(_ errors: [PullError]) throws(PullError) {
        if errors.count == 1 { throw errors[0] }
        if errors.count > 1 { throw .several(errors) }
    }
}
