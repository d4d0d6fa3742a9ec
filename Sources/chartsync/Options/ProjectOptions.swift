import ArgumentParser

/// `-f/--file`: the chart list, whose directory is the project root.
struct ProjectOptions: ParsableArguments {
    /// The chart list used when `-f` is not given.
    static let defaultChartList = "chartsync.yaml"

    /// The chart list as typed; nil when `-f` was not given (verify needs to know).
    @Option(name: [.customShort("f"), .customLong("file")],
            help: "The chart list; its directory is the project root. (default: \(ProjectOptions.defaultChartList))")
    var file: String?

    /// The chart list's absolute path.
    var chartList: String { Paths.absolute(file ?? Self.defaultChartList) }
}
