import ArgumentParser
import ChartSyncCore
import ChartSyncIndex

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

extension ProjectOptions {
    /// The chart list read; an invalid one is a usage error (exit 2) naming file and line.
    func readChartList() throws -> ChartList {
        do {
            return try ChartListReader.read(path: chartList)
        } catch {
            throw Failure(code: .usage, message: error.description)
        }
    }
}
