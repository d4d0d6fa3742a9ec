import ArgumentParser
import ChartSync
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import Foundation

/// `chartsync add`: add a chart (and its repository) to the chart list, then pull.
struct AddCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a chart (and its repository, given by URL) to the chart list, then pull.",
        discussion: """
            The chart list keeps every other line as it was (comments, order, spacing): the chart \
            goes at the end of charts:, a new repository at the end of repositories:, indented like \
            the entries there. --repo names a listed repository, or gives a URL (http(s)://, oci://, \
            a folder): a listed repository with that URL is used, else one is added (named after the \
            URL's last path component or host). A chart already listed is an error naming its line. \
            When the pull fails, the chart list is put back as it was.
            """
    )

    /// The chart's name.
    @Argument(help: "The chart's name in its repository.")
    var chart: String

    /// The repository.
    @Option(name: .customLong("repo"), help: "A listed repository's name, or a repository URL (default: the only listed repository).")
    var repository: String?

    /// The constraint.
    @Option(name: .customLong("version"), help: "A version constraint (default: the newest stable version).")
    var version: String?

    /// Admit prereleases.
    @Flag(name: .customLong("devel"), help: "Admit prerelease versions.")
    var devel = false

    /// Also keep the chart unpacked.
    @Flag(name: .customLong("unpack"), help: "Also keep the chart unpacked as charts/external/<name>-v<version>/.")
    var unpack = false

    /// A new oci:// repository on plain HTTP.
    @Flag(name: .customLong("plain-http"), help: "A new oci:// repository is reached over plain HTTP (a trusted network only).")
    var plainHTTP = false

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// How repositories are reached.
    @OptionGroup var transport: TransportFlags

    /// Edits the chart list, pulls, and puts the list back when the pull fails.
    func run() throws {
        let path = project.chartList
        let original: [UInt8]
        let list: ChartList
        do {
            original = try FileSystem.readFile(path)
            list = try ChartListReader.read(path: path)
        } catch {
            throw Failure(code: .usage, message: "\(error)")
        }
        guard ChartName.isValid(chart) else { throw Failure(code: .usage, message: "\"\(chart)\" is not a chart name") }
        if let version {
            do { _ = try VersionConstraint(parsing: version) } catch {
                throw Failure(code: .usage, message: "--version \(version): \(error)")
            }
        }
        let (repositoryName, newRepository) = try chooseRepository(list)
        var entry = ChartList.Chart(name: chart, repository: repositoryName, version: version)
        entry.devel = devel
        entry.unpack = unpack
        let text: String
        do {
            text = try ChartListEditor.adding(chart: entry, repository: newRepository, to: String(decoding: original, as: UTF8.self),
                                              list: list, source: Paths.display(path))
        } catch {
            throw Failure(code: .usage, message: error.description)
        }
        try Failure.mapping { try FileSystem.writeAtomically(Array(text.utf8), to: path) }
        Terminal.note("added \(chart) to \(Paths.display(path))" + (newRepository.map { " with repository \"\($0.name)\" (\($0.url))" } ?? ""))
        do {
            var pull = try PullCommand.parse(["-f", path])
            pull.transport = transport
            try pull.run()
        } catch {
            // The pull changed nothing; neither does add.
            try? FileSystem.writeAtomically(original, to: path)
            Terminal.note("the pull failed; \(Paths.display(path)) is as it was")
            throw error
        }
    }

    /// The repository the chart comes from: a listed one, or a new entry for a URL.
    private func chooseRepository(_ list: ChartList) throws -> (String, ChartList.Repository?) {
        guard let given = repository else {
            guard list.repositories.count == 1 else {
                throw Failure(code: .usage, message: list.repositories.isEmpty
                    ? "the chart list has no repository; give one with --repo URL"
                    : "the chart list has \(list.repositories.count) repositories; name one with --repo")
            }
            return (list.repositories[0].name, nil)
        }
        if let named = list.repositories.first(where: { $0.name == given }) { return (named.name, nil) }
        let isURL = given.contains("://") || given.hasPrefix("/") || given.hasPrefix("./") || given.hasPrefix("../")
        guard isURL else {
            throw Failure(code: .usage, message: "--repo \(given): no repository of that name in the chart list (listed: "
                + list.repositories.map(\.name).joined(separator: ", ") + "); give a URL to add one")
        }
        let trimmed = given.hasSuffix("/") ? String(given.dropLast()) : given
        if let same = list.repositories.first(where: { $0.url == trimmed || $0.url == given }) { return (same.name, nil) }
        let afterScheme = trimmed.components(separatedBy: "://").last ?? trimmed
        let components = afterScheme.split(separator: "/").map(String.init)
        var base = (components.count > 1 ? components.last! : components.first ?? "repo").lowercased()
        base = String(base.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        if base.isEmpty { base = "repo" }
        var name = base
        var counter = 2
        while list.repositories.contains(where: { $0.name == name }) {
            name = "\(base)-\(counter)"
            counter += 1
        }
        var repository = ChartList.Repository(name: name, url: trimmed)
        repository.plainHTTP = plainHTTP && trimmed.lowercased().hasPrefix("oci://")
        return (name, repository)
    }
}
