import ArgumentParser
import ChartSync

/// `chartsync init`: start a project's chart list, from scratch or from a helmfile.
struct InitCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented chart list (chartsync.yaml), or one made from a helmfile; never overwrite one.",
        discussion: """
            With --from-helmfile, the list holds each repo/chart release's chart (repository and version \
            constraint; releases of one chart merged), the repositories they use (oci: true ones as oci:// \
            URLs), and bundle.include with the helmfile and the environment, values, bases and helmfiles \
            files it names. Only static YAML is read: lines with Go templates are reported, not guessed; \
            local charts and what cannot be decided are left out with a note on stderr.
            """
    )

    /// `-f/--file`: the chart list to write.
    @OptionGroup var project: ProjectOptions

    /// The helmfile to start from.
    @Option(name: .customLong("from-helmfile"), help: "Make the list from this helmfile's repositories and releases.")
    var fromHelmfile: String?

    /// Writes the chart list and says what it holds; notes go to stderr.
    func run() throws {
        let drafter = ChartListDrafter(chartList: project.chartList)
        let draft = try Failure.mapping {
            try drafter.checkAbsent()
            let draft = try fromHelmfile.map { try drafter.fromHelmfile(Paths.absolute($0)) } ?? drafter.example()
            try drafter.write(draft)
            return draft
        }
        for note in draft.notes { Terminal.note("note: " + note) }
        let list = draft.list
        Terminal.output("wrote \(Paths.display(project.chartList)): \(list.repositories.count) "
            + (list.repositories.count == 1 ? "repository" : "repositories") + ", \(list.charts.count) "
            + (list.charts.count == 1 ? "chart" : "charts") + (list.bundle.include.isEmpty ? "" : ", bundle.include: "
                + list.bundle.include.map(\.pattern.text).joined(separator: ", ")))
    }
}
