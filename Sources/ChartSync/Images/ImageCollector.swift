import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTemplate
import ChartSyncTransport

/// What images.lock should say, worked out from the vendored charts.
public struct ExpectedImages: Sendable {
    /// The manifest the charts and the chart list's `images:` section give (digests only where
    /// a chart or `extra` names one).
    public let manifest: ImagesManifest
    /// What could not be determined without rendering, per chart.
    public let warnings: [ImageWarning]
    /// Images the charts use that `images.exclude` leaves out.
    public let excluded: [ImageReference]
    /// `images.exclude` entries that match no image (a typo, or the chart changed).
    public let unmatchedExcludes: [ChartList.ImageSettings.Entry]
    /// The helmfile releases whose values were applied (each one render of its chart), in
    /// helmfile order.
    public var releases: [AppliedRelease] = []
}

/// A helmfile release whose values the image scan applied to its chart.
public struct AppliedRelease: Sendable, Equatable {
    /// The release's name.
    public let name: String
    /// The helmfile file it is in, relative to the project root.
    public let file: String
    /// Its line.
    public let line: Int
    /// The vendored chart (versions.lock name) it uses.
    public let chart: String
}

/// One way images.lock differs from what the charts say.
public struct ImagesDifference: Sendable, Equatable, CustomStringConvertible {
    /// What kind of difference.
    public enum Kind: String, Sendable {
        /// A chart uses the image (or `extra` lists it) and images.lock does not list it.
        case missing = "image-missing"
        /// images.lock lists an image no chart uses and `extra` does not list.
        case unused = "image-unused"
        /// Listed on both sides, with other charts (or another `extra` flag).
        case chartsChanged = "image-charts-changed"
        /// A chart pins a digest and images.lock records another.
        case digestChanged = "image-digest-changed"
    }

    /// The kind.
    public let kind: Kind
    /// The image (without digest).
    public let image: ImageReference
    /// What the charts say.
    public let expected: String
    /// What images.lock says.
    public let actual: String

    public var description: String {
        switch kind {
        case .missing: return "\(image) is used by \(expected) but images.lock does not list it"
        case .unused: return "images.lock lists \(image) (\(actual)), which no vendored chart uses and images.extra does not list"
        case .chartsChanged: return "\(image): used by \(expected), images.lock says \(actual)"
        case .digestChanged: return "\(image): a chart pins \(expected), images.lock records \(actual)"
        }
    }
}

/// Why `chartsync images` could not do its job.
public enum ImagesError: ChartSyncFailure, CustomStringConvertible {
    /// versions.lock is missing, invalid or does not match the chart list.
    case lock(String)
    /// A vendored tarball is not the one versions.lock records (scanning it would list someone else's images).
    case notProven([String])
    /// A chart could not be read.
    case scan(ImageScanError)
    /// A values file the chart list names is missing, unreadable or not valid values.
    case values(String)
    /// images.lock is not valid.
    case invalidManifest(path: String, line: Int, message: String)
    /// `--check`: images.lock differs from what the charts say.
    case stale(path: String, differences: [ImagesDifference])
    /// A file operation failed.
    case fileSystem(FileSystemError)

    public var kind: FailureKind {
        switch self {
        case .notProven, .stale: return .verification
        case .lock, .invalidManifest, .values: return .input
        case .scan, .fileSystem: return .io
        }
    }

    public var description: String {
        switch self {
        case .lock(let message), .values(let message): return message
        case .notProven(let problems):
            return "the vendored charts do not match versions.lock (run chartsync verify):\n  " + problems.joined(separator: "\n  ")
        case .scan(let error): return error.description
        case .invalidManifest(let path, let line, let message): return "\(path): line \(line): \(message)"
        case .stale(let path, let differences):
            return "\(path) is not what the vendored charts say; run chartsync images:\n  " + differences.map(\.description).joined(separator: "\n  ")
        case .fileSystem(let error): return error.description
        }
    }
}

/// Works out images.lock from the vendored charts (each tarball proven against versions.lock
/// first), the chart list's `images.extra` and `images.exclude`; keeps the digests images.lock
/// already pins; compares it for `--check` and the gate.
public struct ImageCollector: Sendable {
    let layout: ProjectLayout

    /// Creates a collector for a project.
    public init(layout: ProjectLayout) {
        self.layout = layout
    }

    /// The images.lock path.
    public var manifestPath: String { layout.root + "/images.lock" }

    /// What images.lock should list: every image the locked charts use with their default values
    /// and the values files the chart list names for them (`values:`, merged in order as
    /// `helm template -f` merges them), each tarball's sha256 checked against versions.lock before
    /// it is read (unless the caller has just proven them: `tarballsProven`), plus `extra`, minus
    /// `exclude`. With a helmfile in the project, each release of a vendored chart that gives
    /// values (``HelmfileReleaseValues``) is one more render of its chart: the chart list's
    /// values files, then the release's values in helmfile's order, then its `set:` entries; the
    /// chart's images are the union over its renders. The values files are read every time, so
    /// images.lock follows them: a changed values file that switches an image on or off makes
    /// `--check` and the gate report it.
    public func expected(_ list: ChartList, lock: Lockfile, tarballsProven: Bool = false) throws(ImagesError) -> ExpectedImages {
        do {
            try ChartListReader.checkValuesFiles(list, source: layout.chartList)
        } catch {
            throw .values(error.description)
        }
        let helmfile = HelmfileReleaseValues(layout: layout, lock: lock)
        var users: [ImageReference: Set<String>] = [:]
        var warnings: [ImageWarning] = helmfile.warnings
        var seenWarnings = Set(warnings)
        var problems: [String] = []
        for entry in lock.entries {
            let tarball = layout.external + "/" + entry.fileName
            if !tarballsProven {
                do {
                    let (digest, size) = try FileSystem.sha256(ofFile: tarball)
                    guard digest == entry.sha256, size == entry.size else {
                        problems.append("charts/external/\(entry.fileName): expected \(entry.sha256.prefixed) (\(entry.size) bytes), found \(digest.prefixed) (\(size) bytes)")
                        continue
                    }
                } catch {
                    problems.append(error.description)
                    continue
                }
            }
            let scanner = ImageScanner()
            let chart = list.charts.first { $0.name == entry.name }
            let listFiles = try valuesFiles(chart)
            var renders: [ValueNode?] = [try merged(listFiles, sets: [], scanner: scanner, what: "chart \"\(entry.name)\"")]
            for release in helmfile.releases(of: entry.name) {
                renders.append(try merged(listFiles + release.documents, sets: release.sets, scanner: scanner,
                                          what: "\(release.file): line \(release.line): release \(release.name)"))
            }
            let files: ChartFiles
            do throws(ArchiveError) {
                files = try ChartFiles.read(tarball: tarball, limits: scanner.limits, maxNesting: scanner.maxNesting)
            } catch {
                throw .scan(.archive(error))
            }
            for values in renders {
                let scan: ImageScan
                do {
                    scan = try scanner.scan(files: files, tarball: tarball, values: values)
                } catch {
                    throw .scan(error)
                }
                for image in scan.images { users[image, default: []].insert(entry.name) }
                for warning in scan.warnings where seenWarnings.insert(warning).inserted { warnings.append(warning) }
            }
        }
        if !problems.isEmpty { throw .notProven(problems) }

        var extras = Set<ImageReference>()
        for entry in list.images.extra {
            guard let reference = try? ImageReference(parsing: entry.text) else { continue }   // the reader refused invalid ones
            extras.insert(reference)
            if users[reference] == nil { users[reference] = [] }
        }
        var excluded: [ImageReference] = []
        var unmatched: [ChartList.ImageSettings.Entry] = []
        for entry in list.images.exclude {
            guard let pattern = try? ImageReference(parsing: entry.text) else { continue }
            let matches = users.keys.filter { Self.excludes(pattern, $0) && !extras.contains($0) }
            if matches.isEmpty { unmatched.append(entry) }
            for image in matches {
                users[image] = nil
                excluded.append(image)
            }
        }
        let manifest = ImagesManifest(images: users.map { image, charts in
            ImagesManifest.Image(reference: image, charts: Array(charts), extra: extras.contains(image))
        })
        var expected = ExpectedImages(manifest: manifest, warnings: warnings, excluded: excluded.sorted(), unmatchedExcludes: unmatched)
        let locked = Set(lock.entries.map(\.name))
        expected.releases = helmfile.releases.filter { locked.contains($0.chart) }
            .map { AppliedRelease(name: $0.name, file: $0.file, line: $0.line, chart: $0.chart) }
        return expected
    }

    /// The chart's values files (`values:` in the chart list), read; none when it names none.
    func valuesFiles(_ chart: ChartList.Chart?) throws(ImagesError) -> [(bytes: [UInt8], name: String)] {
        guard let chart else { return [] }
        var files: [(bytes: [UInt8], name: String)] = []
        for file in chart.values {
            do {
                files.append((try FileSystem.readFile(layout.root + "/" + file.path), file.path))
            } catch {
                throw .values("\(layout.chartList): line \(file.line): chart \"\(chart.name)\": values file \(file.path) cannot be read: \(error.message)")
            }
        }
        return files
    }

    /// Values files merged in `-f` order with `--set` layers over them; nil when there are none.
    /// `what` names where they come from in an error.
    private func merged(_ files: [(bytes: [UInt8], name: String)], sets: [ValueNode], scanner: ImageScanner,
                        what: String) throws(ImagesError) -> ValueNode? {
        var values: ValueNode?
        do {
            values = try scanner.userValues(files)
        } catch {
            throw .values("\(what.hasPrefix("chart ") ? layout.chartList + ": " : "")\(what): \(error.description)")
        }
        for set in sets { values = ValueCoalescing.merge(set, over: values ?? .emptyMap(file: set.file)) }
        return values
    }

    /// The files the image scan reads besides the charts, relative to the root: the chart list's
    /// `values:` files, and when images are checked (images.lock exists or the chart list has an
    /// `images:` section) and a helmfile release gives a vendored chart values, the helmfile's
    /// files (``HelmfileReleaseValues/files``). A bundle carries them, so that the scan at the
    /// site reads the same.
    public func valuesFiles(_ list: ChartList, lock: Lockfile) -> [String] {
        var paths = list.charts.flatMap { $0.values.map(\.path) }
        let imagesChecked = FileSystem.exists(manifestPath) || FileSystem.isSymlink(manifestPath) || list.images != ChartList.ImageSettings()
        if imagesChecked {
            let helmfile = HelmfileReleaseValues(layout: layout, lock: lock)
            if !helmfile.releases.isEmpty { paths += helmfile.files }
        }
        return paths
    }

    /// Whether an `exclude` entry takes an image out: a name without tag or digest excludes every
    /// tag of it; otherwise the tag (and digest, when given) must match too.
    static func excludes(_ pattern: ImageReference, _ image: ImageReference) -> Bool {
        guard pattern.name == image.name else { return false }
        if pattern.tag == nil && pattern.digest == nil { return true }
        return pattern.tag == image.tag && (pattern.digest == nil || pattern.digest == image.digest)
    }

    /// images.lock as it is on disk; nil when there is none.
    public func current() throws(ImagesError) -> ImagesManifest? {
        guard FileSystem.exists(manifestPath) || FileSystem.isSymlink(manifestPath) else { return nil }
        do {
            return try ImagesManifestCoding.parse(try FileSystem.readFile(manifestPath), source: manifestPath)
        } catch let error as YAMLError {
            throw .invalidManifest(path: manifestPath, line: error.line, message: error.message)
        } catch let error as FileSystemError {
            throw .fileSystem(error)
        } catch {
            throw .fileSystem(FileSystemError(path: manifestPath, message: String(describing: error)))
        }
    }

    /// The expected manifest with the digests `current` pins for the same image (a digest a
    /// chart gives itself wins).
    public static func keepingDigests(_ expected: ImagesManifest, from current: ImagesManifest?) -> ImagesManifest {
        guard let current else { return expected }
        return ImagesManifest(images: expected.images.map { image in
            var image = image
            if image.reference.digest == nil, let pinned = current.image(image.reference)?.reference.digest {
                image.reference.digest = pinned
            }
            return image
        })
    }

    /// How `current` differs from `expected`: images missing or unused, other charts, or a digest
    /// a chart pins that images.lock records otherwise. Digests images.lock adds are not differences.
    public static func differences(expected: ImagesManifest, current: ImagesManifest) -> [ImagesDifference] {
        var result: [ImagesDifference] = []
        func users(_ image: ImagesManifest.Image) -> String {
            let charts = image.charts.isEmpty ? "" : "chart(s) " + image.charts.joined(separator: ", ")
            let extra = image.extra ? "images.extra" : ""
            return [charts, extra].filter { !$0.isEmpty }.joined(separator: " and ")
        }
        for image in expected.images {
            let name = image.reference.withoutDigest
            guard let have = current.image(image.reference) else {
                result.append(ImagesDifference(kind: .missing, image: name, expected: users(image), actual: "not listed"))
                continue
            }
            if have.charts != image.charts || have.extra != image.extra {
                result.append(ImagesDifference(kind: .chartsChanged, image: name, expected: users(image), actual: users(have)))
            }
            if let pinned = image.reference.digest, have.reference.digest != pinned {
                result.append(ImagesDifference(kind: .digestChanged, image: name, expected: pinned, actual: have.reference.digest ?? "no digest"))
            }
        }
        for image in current.images where expected.image(image.reference) == nil {
            result.append(ImagesDifference(kind: .unused, image: image.reference.withoutDigest, expected: "not listed", actual: users(image)))
        }
        return result
    }
}

extension RegistryError: ChartSyncFailure {
    public var kind: FailureKind {
        switch category {
        case .verification: return .verification
        case .input: return .input
        case .io: return .io
        case .interrupted: return .interrupted
        }
    }
}

/// How to run `chartsync images`.
public struct ImagesOptions: Sendable {
    /// Compare images.lock with what the charts say; write nothing (exit 1 when they differ).
    public var check: Bool
    /// Ask each registry for the manifest digest of every tag and record `name:tag@sha256:...`.
    public var resolve: Bool
    /// Ask the registries only for the images images.lock does not pin yet (`images --pull`).
    public var pinMissing: Bool
    /// Transport settings for registries not listed under `images.registries` (and the base for those listed).
    public var transport: TransportOptions
    /// Where credential variables named in the chart list are read.
    public var environment: [String: String]

    /// Creates options.
    public init(check: Bool = false, resolve: Bool = false, pinMissing: Bool = false,
                transport: TransportOptions = TransportOptions(), environment: [String: String] = [:]) {
        self.check = check
        self.resolve = resolve
        self.pinMissing = pinMissing
        self.transport = transport
        self.environment = environment
    }
}

/// What `chartsync images` did.
public struct ImagesReport: Sendable {
    /// images.lock as written (or, with `check`, as found current).
    public let manifest: ImagesManifest
    /// What the charts and chart list say (warnings, exclusions).
    public let expected: ExpectedImages
    /// images.lock changed on disk.
    public let written: Bool
    /// Images whose digest was asked of a registry.
    public let resolved: Int
}

/// Why resolving failed for some images (each named); reported with the first failure's kind.
public struct ImagesResolveError: ChartSyncFailure, CustomStringConvertible {
    /// Every image that could not be resolved, with the registry's answer.
    public let failures: [(image: String, error: RegistryError)]

    public var kind: FailureKind { failures.first?.error.kind ?? .io }

    public var description: String {
        "could not resolve \(failures.count) image(s); images.lock was not changed:\n  "
            + failures.map { "\($0.image): \($0.error)" }.joined(separator: "\n  ")
    }
}

extension ImageCollector {
    /// Runs `chartsync images`: works out the images, keeps the digests images.lock pins (or asks
    /// the registries with `resolve`), and writes images.lock atomically when it changes; with
    /// `check`, only compares. `resolver` replaces the registry client (tests).
    public func run(_ options: ImagesOptions, resolver: (any ImageResolver)? = nil) throws -> ImagesReport {
        let list: ChartList, lock: Lockfile
        do {
            (list, lock) = try layout.currentLock()
        } catch let problem as ProjectLayout.LockProblem {
            throw ImagesError.lock(problem.message)
        }
        let expected = try self.expected(list, lock: lock)
        let current = try self.current()
        if options.check {
            let differences = ImageCollector.differences(expected: expected.manifest, current: current ?? ImagesManifest(images: []))
            if current == nil || !differences.isEmpty {
                throw ImagesError.stale(path: manifestPath, differences: differences)
            }
            return ImagesReport(manifest: current!, expected: expected, written: false, resolved: 0)
        }
        var manifest = ImageCollector.keepingDigests(expected.manifest, from: current)
        var resolved = 0
        if options.resolve || (options.pinMissing && manifest.images.contains { $0.reference.digest == nil }) {
            do {
                try ChartListReader.checkFiles(list, source: layout.chartList, repositories: false, registries: true)
            } catch {
                throw ImagesError.lock(error.description)
            }
            let client = try resolver ?? registryClient(list, options: options)
            (manifest, resolved) = try resolve(manifest, chartPinned: expected.manifest, with: client,
                                               only: options.resolve ? { _ in true } : { $0.reference.digest == nil })
        }
        let text = Array(ImagesManifestCoding.text(manifest).utf8)
        let before = FileSystem.isRegularFile(manifestPath) ? try? FileSystem.readFile(manifestPath) : nil
        if before != text {
            try FileSystem.writeAtomically(text, to: manifestPath)
        }
        return ImagesReport(manifest: manifest, expected: expected, written: before != text, resolved: resolved)
    }

    /// The registry client for the chart list's `images.registries` (others get `options.transport`,
    /// https); a registry the chart list gives no credentials for takes those `docker login` or
    /// `helm registry login` stored (`RegistryConfigCredentials`).
    func registryClient(_ list: ChartList, options: ImagesOptions, cancellation: Cancellation = Cancellation(),
                        onEvent: (@Sendable (TransportEvent) -> Void)? = nil) throws -> RegistryClient {
        var endpoints: [String: RegistryEndpoint] = [:]
        let stored: [String: Credentials]
        do {
            stored = try RegistryConfigCredentials.load(environment: options.environment)
        } catch {
            throw ImagesError.lock(error.description)
        }
        for (host, credentials) in stored {
            endpoints[host] = RegistryEndpoint(credentials: credentials, transport: options.transport)
        }
        for registry in list.images.registries {
            var credentials: Credentials?
            do {
                credentials = try AccessSettings.credentials(registry.access, environment: options.environment, root: layout.root)
            } catch {
                throw ImagesError.lock("registry \"\(registry.host)\": \(error)")
            }
            if credentials == nil { credentials = stored[registry.host] }
            endpoints[registry.host] = RegistryEndpoint(
                plainHTTP: registry.plainHTTP, credentials: credentials,
                transport: AccessSettings.transport(registry.access, base: options.transport, root: layout.root,
                                                    environment: options.environment))
        }
        return RegistryClient(endpoints: endpoints, defaultEndpoint: RegistryEndpoint(transport: options.transport),
                              onEvent: onEvent, cancellation: cancellation)
    }

    /// Every image's digest from its registry, on a few threads; a digest a chart pins itself is
    /// only checked to exist. Nothing is returned unless every image resolved.
    private func resolve(_ manifest: ImagesManifest, chartPinned: ImagesManifest, with client: any ImageResolver,
                         only wanted: (ImagesManifest.Image) -> Bool) throws -> (ImagesManifest, Int) {
        let images = manifest.images.filter(wanted)
        let kept = manifest.images.filter { !wanted($0) }
        let all = WorkerPool.map(images, threads: 8) { image in
            var reference = image.reference
            if chartPinned.image(reference)?.reference.digest == nil { reference.digest = nil }
            return Result { () throws(RegistryError) -> String in try client.resolve(reference) }
        }
        var failures: [(image: String, error: RegistryError)] = []
        var out: [ImagesManifest.Image] = []
        for (i, image) in images.enumerated() {
            switch all[i] {
            case .success(let digest):
                var pinned = image
                pinned.reference.digest = digest
                out.append(pinned)
            case .failure(let error):
                failures.append((image.reference.withoutDigest.description, error))
            }
        }
        if !failures.isEmpty { throw ImagesResolveError(failures: failures) }
        return (ImagesManifest(images: kept + out), images.count)
    }
}
