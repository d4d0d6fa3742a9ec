import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import Foundation

/// `chartsync outdated`: which locked charts have newer versions.
struct OutdatedCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "outdated",
        abstract: "List every chart with its locked version, the newest its constraint admits (wanted) and the newest there is (latest).",
        discussion: """
            One index fetch per repository and one tag list per OCI chart; nothing is downloaded or \
            written. Prereleases count only for charts with devel. Exit 0; with --exit-code, exit 1 \
            when a chart is not locked or a newer version is wanted or exists (for a scheduled pipeline).
            """
    )

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// Exit 1 when anything is behind.
    @Flag(name: .customLong("exit-code"), help: "Exit 1 when any chart is behind.")
    var exitCode = false

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// How repositories are reached.
    @OptionGroup var transport: TransportFlags

    /// Asks the repositories and prints the table.
    func run() throws {
        let list = try project.readChartList()
        let layout = ProjectLayout(chartList: project.chartList)
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let puller = Puller.terminal(layout: layout, cancellation: cancellation)
        let options = PullOptions(transport: transport.options, environment: ProcessInfo.processInfo.environment)
        let charts = try Failure.mapping { try withExtendedLifetime(signals) { try OutdatedChecker(layout: layout, puller: puller).check(list, options: options) } }
        if format.json {
            Terminal.output(try JSONOutput.encode(OutdatedSummary(charts: charts.map(OutdatedSummary.Chart.init))))
        } else {
            let rows = [["CHART", "LOCKED", "WANTED", "LATEST", "CONSTRAINT", "REPOSITORY"]] + charts.map { chart in
                [chart.name + (chart.behind ? " *" : ""), chart.locked ?? "-", chart.wanted ?? "(none)", chart.latest ?? "(none)",
                 chart.constraint ?? "*", chart.repository]
            }
            let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                Terminal.output(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
            let behind = charts.filter(\.behind).count
            Terminal.output(behind == 0 ? "every chart is at the newest version" : "\(behind) chart(s) behind (*)")
        }
        let behind = charts.filter(\.behind).map(\.name)
        if exitCode && !behind.isEmpty {
            throw Failure(code: .verificationFailed, message: "behind: " + behind.joined(separator: ", ") + " (--exit-code)")
        }
    }
}

/// `outdated --json`.
struct OutdatedSummary: Encodable {
    /// One chart.
    struct Chart: Encodable {
        let name: String
        let repository: String
        let constraint: String?
        let locked: String?
        let wanted: String?
        let latest: String?
        let behind: Bool

        init(_ chart: OutdatedChart) {
            name = chart.name
            repository = chart.repository
            constraint = chart.constraint
            locked = chart.locked
            wanted = chart.wanted
            latest = chart.latest
            behind = chart.behind
        }
    }

    /// Every chart, in chart-list order.
    let charts: [Chart]
}
