import ArgumentParser
import ChartSync
import ChartSyncCore
import Foundation

/// `chartsync verify [BUNDLE]`: prove (and unpack) a bundle, or, without one, gate the working tree.
struct VerifyCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Without BUNDLE: check charts/external and versions.lock against each other and the chart list (the CI gate, offline). With BUNDLE: prove it and, with --extract, unpack it.",
        discussion: """
            The gate (no BUNDLE) opens no network connection. It reports every problem, each naming \
            the file, what versions.lock expects and what is there: exit 0 clean, 1 a mismatch, \
            2 a chart-list or lock error (or a --helmfile that is not there), 3 a file could not be \
            read. With helmfile.yaml (helmfile.yaml.gotmpl, helmfile.d/) beside the chart list, or \
            --helmfile FILE|DIR, every release's chart must be vendored (or in charts/custom) and \
            its values files must exist; templates are reported as warnings, never evaluated. \
            --json prints the report \
            (schema chartsync.verify.v1), --junit FILE writes JUnit XML, and under GitHub Actions \
            (GITHUB_ACTIONS=true) each problem is also an ::error annotation.

            With BUNDLE (the file or its first part FILE.000): nothing reaches DIR unless all of it \
            was proven; DIR then holds the payload and an index.yaml over charts/external, so any \
            static web server can serve it as a Helm repository, and DIR/.chartsync/ records the \
            installed delivery (name, sequence, manifest digest, signer). DIR must be missing, empty \
            or such a site: a foreign directory is refused (exit 2), an older delivery of the same \
            name (exit 1) unless --allow-downgrade, another delivery unless --replace; the same \
            delivery again changes nothing. Keep site files beside DIR: it is replaced whole.
            """
    )

    /// The bundle; nil for the working-tree gate.
    @Argument(help: "The bundle (FILE or FILE.000); omit it to check the working tree.")
    var bundle: String?

    /// `-f/--file`: the gate's chart list.
    @OptionGroup var project: ProjectOptions

    /// Where the gate also writes JUnit XML.
    @Option(name: .customLong("junit"), help: "The gate also writes its result as JUnit XML to this file.")
    var junit: String?

    /// The helmfile whose releases the gate checks.
    @Option(name: .customLong("helmfile"), help: "The gate checks this helmfile's releases against the vendored charts: a file, or a helmfile.d-style directory (default: helmfile.yaml, helmfile.yaml.gotmpl or helmfile.d/ beside the chart list, when there is one).")
    var helmfile: String?

    /// The Ed25519 public key the bundle must be signed by.
    @Option(name: .customLong("trusted-key"), help: "Require a valid signature by this Ed25519 public key.")
    var trustedKey: String?

    /// The directory to replace with the proven payload.
    @Option(name: .customLong("extract"), help: "Install the proven payload into this site directory (missing, empty, or a chartsync site).")
    var extract: String?

    /// Installs an older delivery, or another one under the installed sequence number.
    @Flag(name: .customLong("allow-downgrade"), help: "Allow a lower sequence (or another delivery with the installed sequence) over the installed delivery.")
    var allowDowngrade = false

    /// Installs a delivery of another name over the installed one.
    @Flag(name: .customLong("replace"), help: "Allow a delivery of another name to replace the installed one.")
    var replace = false

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// Refuses the options of the other mode (bundle or gate).
    func validate() throws {
        if bundle == nil {
            if trustedKey != nil { throw ValidationError("--trusted-key needs a BUNDLE; the working-tree gate has no signature") }
            if extract != nil { throw ValidationError("--extract needs a BUNDLE") }
            if allowDowngrade || replace { throw ValidationError("--allow-downgrade and --replace need a BUNDLE and --extract") }
        } else {
            if junit != nil { throw ValidationError("--junit is for the working-tree gate (verify without BUNDLE)") }
            if project.file != nil { throw ValidationError("-f/--file is for the working-tree gate (verify without BUNDLE)") }
            if helmfile != nil { throw ValidationError("--helmfile is for the working-tree gate (verify without BUNDLE)") }
            if (allowDowngrade || replace) && extract == nil { throw ValidationError("--allow-downgrade and --replace go with --extract") }
        }
    }

    /// Proves the bundle (and extracts it) and prints the result, or runs the gate.
    func run() throws {
        guard let bundle else { return try gate() }
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let result = try withExtendedLifetime(signals) {
            try Failure.mapping {
                try BundleVerifier(cancellation: cancellation).verify(
                    Paths.absolute(bundle), trustedKey: trustedKey, extractTo: extract.map(Paths.absolute),
                    policy: InstallPolicy(allowDowngrade: allowDowngrade, replace: replace))
            }
        }
        if format.json {
            Terminal.output(try JSONOutput.encode(VerifySummary(result)))
        } else {
            for line in VerifySummary.lines(result) { Terminal.output(line) }
        }
    }

    /// The working-tree gate: every outcome (including a chart list that cannot be read) is
    /// reported in every requested form before the exit code says how it went.
    private func gate() throws {
        let chartList = project.chartList
        let layout = ProjectLayout(chartList: chartList)
        let start = Date()
        var verification: TreeVerification?
        var failure: Failure?
        do {
            verification = try Failure.mapping { try TreeVerifier(layout: layout, helmfile: helmfile.map(Paths.absolute)).verify() }
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
                if format.json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { Terminal.output(line) }
            }
        }
        if format.json {
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
