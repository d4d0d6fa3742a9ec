import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncTransport
import Foundation

/// `chartsync push`: fill the site's registry (Harbor) with a delivery's charts and images.
struct PushCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a delivery's charts (as OCI artifacts) and images into a registry such as Harbor, from a directory or straight from the bundle.",
        discussion: """
            DIR is an extracted delivery (verify BUNDLE --extract DIR) or a project. Every chart of \
            versions.lock (proven against it first) and every .tgz of charts/custom goes to \
            HOST/PREFIX/<chart>:<version> as helm push writes it ('+' of a version becomes '_'); every \
            chart directory of charts/custom is first packaged as helm package would (.helmignore \
            honoured), reproducibly (sorted entries, owner 0, mode 0644, mtime SOURCE_DATE_EPOCH or 0), \
            into a temporary directory, never into the delivery; every \
            image of images/ (images --pull) goes to HOST/PREFIX/<repository>:<tag> with its manifests, \
            indexes and blobs as they are, so digests stay the same. Only what the registry lacks is \
            sent: a HEAD before each blob, a cross-repository mount when another repository has it. \
            A tag naming other content is an error (exit 1) unless --overwrite; nothing is ever \
            deleted. Credentials: --credentials-file, else CHARTSYNC_USERNAME/CHARTSYNC_PASSWORD or \
            CHARTSYNC_TOKEN, else what docker login or helm registry login stored for the host.

            BUNDLE (the file, FILE.000 or FILE.parts of a split one) is pushed without writing its \
            payload anywhere, in two streaming passes: the first proves all of it as verify BUNDLE \
            does (--trusted-key as there) and keeps only what is small (MANIFEST, versions.lock, the \
            image manifests, each chart's Chart.yaml); a bundle that is not proven is refused (exit 1) \
            before any request. Then the registry is asked which blobs it lacks; only if some are \
            missing, the second pass reads the bundle again, proves every entry again against the \
            same MANIFEST and uploads each missing blob as it streams by, up to --jobs blobs at once \
            (in 8 MiB chunks above 8 MiB, each upload closed only once its entry is proven; memory \
            stays at --jobs + 1 chunks). A bundle that changes between the passes stops the push \
            (exit 1) and closes no upload of an entry it did not prove.
            """
    )

    /// The delivery: a directory or a bundle.
    @Argument(help: "The extracted delivery or project (DIR), or a bundle (FILE, FILE.000 or FILE.parts) to push straight.")
    var directory: String

    /// The Ed25519 public key the bundle must be signed by.
    @Option(name: .customLong("trusted-key"), help: "For a BUNDLE: require a valid signature by this Ed25519 public key (as verify).")
    var trustedKey: String?

    /// Where to push.
    @Option(name: .customLong("registry"), help: "HOST[:PORT][/PREFIX]: the registry and the path (Harbor: the project) to push under.")
    var registry: String

    /// Blobs sent at once.
    @Option(name: .customLong("jobs"), help: "Blobs sent at once.")
    var jobs = 8

    /// Replace tags that name other content.
    @Flag(name: .customLong("overwrite"), help: "Replace a tag that names other content (otherwise an error).")
    var overwrite = false

    /// Keep the source registry's host in image paths.
    @Flag(name: .customLong("keep-source-registry"),
          help: "Put images under HOST/PREFIX/<source registry>/<repository> instead of HOST/PREFIX/<repository>.")
    var keepSourceRegistry = false

    /// Plain HTTP.
    @Flag(name: .customLong("plain-http"), help: "Speak plain HTTP to the registry (a registry on a trusted network only).")
    var plainHTTP = false

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// No progress on stderr.
    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    /// How the registry is reached.
    @OptionGroup var transport: TransportFlags

    /// `--credentials-file` (else CHARTSYNC_USERNAME/PASSWORD or CHARTSYNC_TOKEN).
    @OptionGroup var access: CredentialsOptions

    /// Checks --jobs.
    func validate() throws {
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    /// Pushes and prints what each chart and image became.
    func run() throws {
        let target: PushTarget
        do {
            target = try PushTarget(parsing: registry)
        } catch {
            throw Failure(code: .usage, message: error.description)
        }
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let quiet = quiet
        let argument = Paths.absolute(directory)
        var isDirectory: ObjCBool = false
        let source: Pusher.Source = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && isDirectory.boolValue
            ? .directory(argument) : .bundle(path: argument, trustedKey: trustedKey)
        if case .directory = source, trustedKey != nil {
            throw Failure(code: .usage, message: "--trusted-key goes with a BUNDLE; \(directory) is a directory")
        }
        let progress = BlobProgress(verb: "sent", quiet: quiet)
        let pusher = Pusher(source: source, cancellation: cancellation, onEvent: progress.handle        , onRegistryEvent: Terminal.transportHandler(verbose: false))
        var packagedChartTime: Int64 = 0
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value >= 0 else { throw Failure(code: .usage, message: "SOURCE_DATE_EPOCH must be a non-negative integer") }
            packagedChartTime = value
        }
        let options = PushOptions(target: target, jobs: jobs, overwrite: overwrite, keepSourceRegistry: keepSourceRegistry,
                                  plainHTTP: plainHTTP, credentials: try access.credentials(), transport: transport.options,
                                  environment: ProcessInfo.processInfo.environment, packagedChartTime: packagedChartTime)
        defer { progress.finish() }
        let report = try Failure.mapping { try withExtendedLifetime(signals) { try pusher.push(options) } }
        progress.finish()
        if format.json {
            Terminal.output(try JSONOutput.encode(PushSummary(report, target: target)))
        } else {
            for line in PushSummary(report, target: target).lines { Terminal.output(line) }
        }
    }
}

/// `push`'s report.
struct PushSummary: Encodable {
    /// One chart or image.
    struct Artifact: Encodable {
        /// `chart` or `image`.
        let kind: String
        /// Where it came from (a chart's file, an image's reference).
        let source: String
        /// Where it is now: `HOST/REPOSITORY:TAG`.
        let pushed: String
        /// The manifest digest the tag names.
        let digest: String
        /// `pushed`, `unchanged` or `overwritten`.
        let status: String
    }

    /// Blob counts.
    struct Blobs: Encodable {
        let uploaded: Int
        let uploadedBytes: Int64
        let mounted: Int
        let present: Int
    }

    /// `HOST[/PREFIX]`.
    let registry: String
    /// Every chart and image.
    let artifacts: [Artifact]
    /// What was sent.
    let blobs: Blobs

    init(_ report: PushReport, target: PushTarget) {
        registry = target.description
        artifacts = report.artifacts.map {
            Artifact(kind: $0.kind.rawValue, source: $0.source, pushed: $0.target, digest: $0.digest, status: $0.status.rawValue)
        }
        blobs = Blobs(uploaded: report.uploaded, uploadedBytes: report.uploadedBytes, mounted: report.mounted, present: report.present)
    }

    /// The human report.
    var lines: [String] {
        let charts = artifacts.filter { $0.kind == "chart" }.count
        return artifacts.map { "\($0.status)  \($0.pushed)  \($0.digest)  (from \($0.source))" }
            + ["\(registry): \(charts) chart(s), \(artifacts.count - charts) image(s); "
               + "uploaded \(blobs.uploaded) blob(s) (\(ByteCount.text(blobs.uploadedBytes))), mounted \(blobs.mounted), "
               + "\(blobs.present) already there"]
    }
}
