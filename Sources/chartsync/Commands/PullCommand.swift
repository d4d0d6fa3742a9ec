import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import Foundation

/// `chartsync pull`: vendor the charts of the chart list into charts/external and write versions.lock.
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Resolve, download and prove the charts of the chart list; write versions.lock.",
        discussion: """
            Every tarball is proven against its repository's digest and its Chart.yaml before it \
            reaches charts/external; on any failure nothing changes. Exit codes: 0 success, \
            1 verification failure, 2 chart-list or usage error, 3 I/O or network failure, \
            130 interrupted.
            """
    )

    @Option(name: [.customShort("f"), .customLong("file")], help: "The chart list; its directory is the project root.")
    var file = "chartsync.yaml"

    @Option(name: .customLong("jobs"), help: "Downloads at once.")
    var jobs = 16

    @Flag(name: .customLong("frozen"), help: "Install exactly what versions.lock records; fail if it does not match the chart list.")
    var frozen = false

    @Flag(name: .customLong("prune"), help: "Remove from charts/external everything versions.lock does not list.")
    var prune = false

    @Flag(name: .customLong("json"), help: "Print the summary as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Show each step on stderr.")
    var verbose = false

    @OptionGroup var transport: TransportFlags

    func validate() throws {
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256") }
    }

    func run() throws {
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        let list: ChartList
        do {
            list = try ChartListReader.read(path: path)
        } catch {
            throw Failure(code: .usage, message: error.description)
        }
        let progress = Progress(total: list.charts.count, quiet: quiet, verbose: verbose)
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let puller = Puller(layout: ProjectLayout(chartList: path), cancellation: cancellation,
                            onEvent: progress.handle, makeClient: { options, cancellation in
                                CurlHTTPClient(options: options, onEvent: Terminal.transportHandler(verbose: verbose),
                                               cancellation: cancellation)
                            })
        let options = PullOptions(jobs: jobs, frozen: frozen, prune: prune, transport: transport.options,
                                  environment: ProcessInfo.processInfo.environment)
        let report: PullReport
        do {
            report = try withExtendedLifetime(signals) { try puller.pull(list, options: options) }
        } catch let error as PullError {
            progress.finish()
            throw Failure(code: ExitStatus(error.kind), message: error.description)
        }
        progress.finish()
        if json {
            Terminal.output(try PullOutput.json(report))
        } else {
            Terminal.output(PullOutput.text(report))
        }
    }
}

/// Rendering a pull's summary.
enum PullOutput {
    struct Chart: Encodable {
        let name: String
        let version: String
        let sha256: String
        let size: Int64
        let from: String?
    }

    struct Summary: Encodable {
        let added: [Chart]
        let updated: [Chart]
        let unchanged: [Chart]
        let removed: [String]
        let unlisted: [String]
        let lockWritten: Bool
        let downloadedBytes: Int64
    }

    static func chart(_ e: Lockfile.Entry, from: String? = nil) -> Chart {
        Chart(name: e.name, version: e.version, sha256: e.sha256.prefixed, size: e.size, from: from)
    }

    static func json(_ r: PullReport) throws -> String {
        let summary = Summary(added: r.added.map { chart($0) }, updated: r.updated.map { chart($0.to, from: $0.from.version) },
                              unchanged: r.unchanged.map { chart($0) }, removed: r.removed, unlisted: r.unlisted,
                              lockWritten: r.lockWritten, downloadedBytes: r.downloadedBytes)
        return try JSONOutput.encode(summary)
    }

    static func text(_ r: PullReport) -> String {
        var lines: [String] = []
        for e in r.added { lines.append("added      \(e.name) \(e.version)") }
        for (from, to) in r.updated {
            lines.append(from.version == to.version ? "repaired   \(to.name) \(to.version)" : "updated    \(to.name) \(from.version) -> \(to.version)")
        }
        for e in r.unchanged { lines.append("unchanged  \(e.name) \(e.version)") }
        for p in r.removed { lines.append("removed    \(p)") }
        for p in r.unlisted { lines.append("unlisted   \(p) (not in versions.lock; --prune removes it)") }
        lines.append("versions.lock " + (r.lockWritten ? "written" : "unchanged")
                     + "; \(r.added.count) added, \(r.updated.count) updated, \(r.unchanged.count) unchanged, \(r.removed.count) removed")
        return lines.joined(separator: "\n")
    }
}

extension ExitStatus {
    /// The exit code for a failure kind.
    init(_ kind: FailureKind) {
        switch kind {
        case .verification: self = .verificationFailed
        case .input: self = .usage
        case .io: self = .ioFailure
        case .interrupted: self = .interrupted
        }
    }
}
