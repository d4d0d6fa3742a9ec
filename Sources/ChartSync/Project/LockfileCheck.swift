import ChartSyncCore

/// versions.lock against the chart list: whether the lock is what a pull of this list would
/// keep. The gate reports these findings; bundle and images refuse a lock that has any.
public enum LockfileCheck {
    /// Whether versions.lock is what a pull of this chart list would keep: every chart locked,
    /// nothing else locked, and each entry resolved from the chart's current constraint,
    /// repository and unpack setting.
    public static func findings(_ list: ChartList, lock: Lockfile, listName: String) -> [TreeFinding] {
        var findings: [TreeFinding] = []
        for chart in list.charts {
            guard let entry = lock.entry(named: chart.name) else {
                findings.append(TreeFinding(
                    .notLocked, file: listName, line: chart.line, chart: chart.name,
                    expected: "a versions.lock entry for \(chart.name)", actual: "none",
                    message: "chart \(chart.name) is listed but versions.lock has no entry for it; run chartsync pull"))
                continue
            }
            let constraint = chart.version ?? "*"
            if !chart.admits(entry.version) {
                findings.append(TreeFinding(
                    .constraintNotAdmitted, file: listName, line: chart.versionLine ?? chart.line, chart: chart.name,
                    expected: "a version admitted by \"\(constraint)\"", actual: entry.version,
                    message: "chart \(chart.name): version \"\(constraint)\"\(chart.devel ? " (devel)" : "") does not admit the locked version \(entry.version); run chartsync pull"))
            } else if chart.version != entry.constraint {
                findings.append(TreeFinding(
                    .constraintChanged, file: listName, line: chart.versionLine ?? chart.line, chart: chart.name,
                    expected: entry.constraint ?? "*", actual: constraint,
                    message: "chart \(chart.name): version is \"\(constraint)\", but versions.lock resolved \(entry.version) from \"\(entry.constraint ?? "*")\"; run chartsync pull"))
            }
            if let repository = list.repository(of: chart), RepositoryURL.redacted(repository.url) != entry.repository {
                findings.append(TreeFinding(
                    .repositoryChanged, file: listName, line: chart.line, chart: chart.name,
                    expected: entry.repository, actual: RepositoryURL.redacted(repository.url),
                    message: "chart \(chart.name): repository is \(RepositoryURL.redacted(repository.url)), but versions.lock has it from \(entry.repository); run chartsync pull"))
            }
            if chart.unpack != (entry.tree != nil) {
                findings.append(TreeFinding(
                    .unpackChanged, file: listName, line: chart.line, chart: chart.name,
                    expected: "unpack: \(entry.tree != nil)", actual: "unpack: \(chart.unpack)",
                    message: "chart \(chart.name): unpack is \(chart.unpack), but versions.lock has it \(entry.tree != nil ? "unpacked" : "packed only"); run chartsync pull"))
            }
        }
        let listed = Set(list.charts.map(\.name))
        for entry in lock.entries where !listed.contains(entry.name) {
            findings.append(TreeFinding(
                .notListed, file: "versions.lock", chart: entry.name,
                expected: "no entry for \(entry.name)", actual: "\(entry.name) \(entry.version)",
                message: "versions.lock has \(entry.name) \(entry.version), which \(listName) does not list; run chartsync pull --prune"))
        }
        let digest = ChartListDigest.of(list)
        if findings.isEmpty && lock.chartList != digest {
            findings.append(TreeFinding(
                .chartListChanged, file: "versions.lock", chart: nil,
                expected: lock.chartList.prefixed, actual: digest.prefixed,
                message: "was written for another chart list (\(lock.chartList.prefixed); \(listName) is now \(digest.prefixed): devel or allowMissingDigest changed); run chartsync pull"))
        }
        return findings
    }
}
