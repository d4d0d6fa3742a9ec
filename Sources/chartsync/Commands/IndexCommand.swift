import ArgumentParser
import ChartSync
import Foundation

/// `chartsync index`: the equivalent of `helm repo index`.
struct IndexCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Write index.yaml for a folder of chart tarballs, making it a Helm repository.",
        discussion: """
            Reproducible: 'created' is the newest file time inside each tarball; 'generated' is \
            SOURCE_DATE_EPOCH when set, else the newest 'created'.
            """
    )

    /// The folder of chart tarballs.
    @Argument(help: "Folder holding <chart>-<version>.tgz files.")
    var directory: String

    /// The base URL the charts will be served from.
    @Option(name: .customLong("url"), help: "Base URL the charts will be served from (default: relative URLs).")
    var url: String?

    /// `-v/--verbose`: each chart on stderr.
    @OptionGroup var steps: VerboseOptions

    /// Writes index.yaml and prints how many versions it lists.
    func run() throws {
        var epoch: Int64?
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text) else { throw Failure(code: .usage, message: "SOURCE_DATE_EPOCH must be an integer") }
            epoch = value
        }
        let entries: Int
        do {
            entries = try RepositoryIndexer(onEvent: Terminal.eventHandler(verbose: steps.verbose)).index(directory: directory, baseURL: url, sourceDateEpoch: epoch).count
        } catch let error as RepositoryIndexError {
            throw Failure(code: .usage, message: error.description)
        } catch {
            throw Failure(code: .ioFailure, message: String(describing: error))
        }
        Terminal.output("indexed \(entries) chart version(s) into \(directory)/index.yaml")
    }
}
