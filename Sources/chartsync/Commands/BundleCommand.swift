import ArgumentParser
import ChartSync
import ChartSyncArchive
import ChartSyncCore
import Foundation

/// `chartsync bundle`: pack the project into one airgap bundle.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Pack versions.lock, the chart list, charts/external, charts/custom and charts/patches into one bundle.",
        discussion: """
            Every vendored chart is proven against versions.lock first. The bundle is reproducible \
            (sorted entries, fixed owner and modes, mtime from SOURCE_DATE_EPOCH or 0). A sidecar \
            FILE.sha256 is always written; with --split-size, FILE.000, FILE.001, ... and FILE.parts.
            """
    )

    @Option(name: .shortAndLong, help: "The bundle file to write.")
    var output: String

    @Option(name: [.customShort("f"), .customLong("file")], help: "The chart list; its directory is the project root.")
    var file = "chartsync.yaml"

    @Option(name: .customLong("compression"), help: "zstd (default), gzip or none.")
    var compression = "zstd"

    @Option(name: .customLong("split-size"), help: "Cut into parts of this size: bytes, or with K, M, G (e.g. 4G for FAT32: 4 GiB - 1 byte).")
    var splitSize: String?

    @Option(name: .customLong("name"), help: "The bundle's name (default: the project folder's name).")
    var name: String?

    @Option(name: .customLong("sequence"), help: "The delivery's sequence number; raise it for each delivery.")
    var sequence: Int64 = 1

    @Option(name: .customLong("sign-key"), help: "Sign the manifest with this Ed25519 private key (chartsync keygen).")
    var signKey: String?

    @Flag(name: .customLong("json"), help: "Print the result as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Show each step on stderr.")
    var verbose = false

    func validate() throws {
        guard BundleCompression(rawValue: compression) != nil else { throw ValidationError("--compression must be zstd, gzip or none") }
        if let splitSize, Size.parse(splitSize) == nil { throw ValidationError("--split-size \"\(splitSize)\" is not a size (e.g. 4G, 700M, 1048576)") }
    }

    func run() throws {
        let path = Paths.absolute(file)
        var mtime: Int64 = 0
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value >= 0 else { throw Failure(code: .usage, message: "SOURCE_DATE_EPOCH must be a non-negative integer") }
            mtime = value
        }
        let options = PackOptions(output: Paths.absolute(output), compression: BundleCompression(rawValue: compression)!,
                                  splitSize: splitSize.flatMap(Size.parse), name: name, sequence: sequence, signKey: signKey,
                                  mtime: mtime, chartsyncVersion: Chartsync.version)
        let report = try Failure.mapping { try Packer(layout: ProjectLayout(chartList: path), onEvent: Terminal.eventHandler(verbose: verbose)).pack(options) }
        if json {
            Terminal.output(try JSONOutput.encode(BundleSummary(report)))
        } else {
            for part in report.parts { Terminal.output("\(part.file)  \(part.size) bytes  sha256:\(part.sha256.hex)") }
            Terminal.output("\(report.manifest.charts.count) chart(s), \(report.manifest.files.count) file(s), \(report.manifest.payloadBytes) payload bytes"
                + (report.signer.map { "; signed by \($0)" } ?? "; not signed") + "; sidecar \(report.sidecar)")
        }
    }
}

/// `chartsync verify [BUNDLE]`: prove (and unpack) a bundle, or, without one, gate the working tree.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Without BUNDLE: check charts/external and versions.lock against each other and the chart list (the CI gate, offline). With BUNDLE: prove it and, with --extract, unpack it.",
        discussion: """
            The gate (no BUNDLE) opens no network connection. It reports every problem, each naming \
            the file, what versions.lock expects and what is there: exit 0 clean, 1 a mismatch, \
            2 a chart-list or lock error, 3 a file could not be read. --json prints the report \
            (schema chartsync.verify.v1), --junit FILE writes JUnit XML, and under GitHub Actions \
            (GITHUB_ACTIONS=true) each problem is also an ::error annotation.

            With BUNDLE (the file or its first part FILE.000): nothing reaches DIR unless all of it \
            was proven; DIR then holds the payload and an index.yaml over charts/external, so any \
            static web server can serve it as a Helm repository.
            """
    )

    @Argument(help: "The bundle (FILE or FILE.000); omit it to check the working tree.")
    var bundle: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "The gate's chart list; its directory is the project root. (default: chartsync.yaml)")
    var file: String?

    @Option(name: .customLong("junit"), help: "The gate also writes its result as JUnit XML to this file.")
    var junit: String?

    @Option(name: .customLong("trusted-key"), help: "Require a valid signature by this Ed25519 public key.")
    var trustedKey: String?

    @Option(name: .customLong("extract"), help: "Replace this directory with the proven payload.")
    var extract: String?

    @Flag(name: .customLong("json"), help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if bundle == nil {
            if trustedKey != nil { throw ValidationError("--trusted-key needs a BUNDLE; the working-tree gate has no signature") }
            if extract != nil { throw ValidationError("--extract needs a BUNDLE") }
        } else {
            if junit != nil { throw ValidationError("--junit is for the working-tree gate (verify without BUNDLE)") }
            if file != nil { throw ValidationError("-f/--file is for the working-tree gate (verify without BUNDLE)") }
        }
    }

    func run() throws {
        guard let bundle else { return try gate() }
        let result = try Failure.mapping {
            try BundleVerifier().verify(Paths.absolute(bundle), trustedKey: trustedKey, extractTo: extract.map(Paths.absolute))
        }
        if json {
            Terminal.output(try JSONOutput.encode(VerifySummary(result)))
        } else {
            Terminal.output("verified \(result.parts.count == 1 ? result.parts[0] : "\(result.parts.count) parts of " + result.parts[0])")
            Terminal.output("  \(result.manifest.name) #\(result.manifest.sequence): \(result.manifest.charts.count) chart(s), \(result.manifest.files.count) file(s)")
            Terminal.output("  signature: " + (result.signatureVerified ? "valid, by \(result.signer ?? "?")" : result.signer.map { "present (by \($0)), not checked: no --trusted-key" } ?? "none"))
            if let to = result.extractedTo { Terminal.output("  extracted to \(to)") }
        }
    }

    /// The working-tree gate: every outcome (including a chart list that cannot be read) is
    /// reported in every requested form before the exit code says how it went.
    private func gate() throws {
        let chartList = Paths.absolute(file ?? "chartsync.yaml")
        let layout = ProjectLayout(chartList: chartList)
        let start = Date()
        var verification: TreeVerification?
        var failure: Failure?
        do {
            verification = try Failure.mapping { try TreeVerifier(layout: layout).verify() }
        } catch let error as Failure {
            failure = error
        }
        let report = GateReport(root: layout.root, chartList: String(chartList.split(separator: "/").last ?? "chartsync.yaml"), verification: verification,
                                failure: failure, seconds: Date().timeIntervalSince(start))
        if let junit {
            do {
                try Data(report.junit.utf8).write(to: URL(fileURLWithPath: Paths.absolute(junit)), options: .atomic)
            } catch {
                throw Failure(code: .ioFailure, message: "\(Paths.absolute(junit)): cannot write the JUnit report: \(error.localizedDescription)")
            }
        }
        let environment = ProcessInfo.processInfo.environment
        if environment["GITHUB_ACTIONS"] == "true" {
            // stdout carries the JSON document when --json is given; the runner reads both streams.
            for line in report.annotations(workspace: environment["GITHUB_WORKSPACE"]) {
                if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { Terminal.output(line) }
            }
        }
        if json {
            Terminal.output(try JSONOutput.encode(report.document))
        } else {
            for line in report.lines { Terminal.output(line) }
        }
        if let failure { throw failure }
        if let verification, !verification.passed {
            throw Failure(code: report.exitCode, message: "verification failed: \(verification.findings.count) problem(s) in \(layout.root)")
        }
    }
}

/// `chartsync inspect BUNDLE`: show the manifest without extracting.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a bundle's manifest (charts, sizes, signer, sequence) without extracting or proving the payload."
    )

    @Argument(help: "The bundle (FILE or FILE.000).")
    var bundle: String

    @Flag(name: .customLong("json"), help: "Print the manifest as JSON.")
    var json = false

    func run() throws {
        let (manifest, signer, parts) = try Failure.mapping { try BundleVerifier().inspect(Paths.absolute(bundle)) }
        if json {
            Terminal.output(try JSONOutput.encode(InspectSummary(manifest: manifest, signer: signer, parts: parts)))
            return
        }
        Terminal.output("bundle:    \(manifest.name) #\(manifest.sequence) (chartsync \(manifest.chartsyncVersion))")
        Terminal.output("parts:     \(parts.count)")
        Terminal.output("signer:    \(signer ?? "not signed")")
        Terminal.output("payload:   \(manifest.files.count) file(s), \(manifest.payloadBytes) bytes")
        Terminal.output("charts:")
        for chart in manifest.charts { Terminal.output("  \(chart.name) \(chart.version)  sha256:\(chart.sha256.hex)") }
        if !manifest.images.isEmpty {
            Terminal.output("images (images.lock):")
            for image in manifest.images { Terminal.output("  \(image)") }
        }
    }
}

/// `chartsync keygen`: an Ed25519 key pair for signing bundles.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an Ed25519 key pair for signing bundles: KEY (private, mode 0600) and KEY.pub."
    )

    @Argument(help: "The private key file to write.")
    var key: String

    func run() throws {
        let (publicPath, fingerprint) = try Failure.mapping { try SigningKey.generate(path: Paths.absolute(key)) }
        Terminal.output("private key: \(Paths.absolute(key))\npublic key:  \(publicPath)\nfingerprint: \(fingerprint)")
    }
}

/// Sizes like `4G` (4 GiB - 1 byte, what FAT32 holds), `700M`, `64K` or plain bytes.
enum Size {
    static func parse(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = text.uppercased().last else { return nil }
        if let unit = units[last], let n = Int64(text.dropLast()), n > 0 {
            let size = n * unit
            // "4G" means as much as FAT32 holds: 4 GiB - 1 byte.
            return size == 4 << 30 ? size - 1 : size
        }
        return Int64(text).flatMap { $0 > 0 ? $0 : nil }
    }
}

/// Paths as the user typed them, made absolute against the working directory.
enum Paths {
    /// An absolute path as shown to the user: relative to the working directory when under it.
    static func display(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
