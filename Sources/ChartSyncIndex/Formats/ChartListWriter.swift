import ChartSyncCore

/// Writes chart-list text (`chartsync.yaml`) that ``ChartListReader`` reads back: the commented
/// example `chartsync init` starts a project with, or a given list (repositories, charts,
/// `bundle.include`) with a comment per chart. Credentials and TLS settings are never written.
public enum ChartListWriter {
    /// The commented example a new project starts from.
    public static let example = """
        # chartsync chart list: what `chartsync pull` vendors into charts/external (and pins in
        # versions.lock), and what `chartsync bundle` carries to the site. Every field is described
        # in chartsync's README. Edit the example below, then run `chartsync pull`.
        repositories:
          - name: prometheus-community
            url: https://prometheus-community.github.io/helm-charts   # http(s)://, oci://HOST/PATH, file://, or a folder relative to this file
            # Credentials come from the environment or a file, never from this list:
            # usernameEnv: REPO_USERNAME
            # passwordEnv: REPO_PASSWORD
            # caFile: certs/repo-ca.pem          # a CA to trust (relative to this file)

        charts:
          - name: kube-prometheus-stack
            repository: prometheus-community
            version: "~75.0"                     # a Helm constraint; leave it out for the newest stable version
            # unpack: true                       # also keep charts/external/<name>-v<version>/ (for helmfile's local paths)

        # images:                                # what `chartsync images` adds to or leaves out of images.lock
        #   extra:
        #     - quay.io/prometheus/busybox:latest
        #   platforms: [linux/amd64]

        # bundle:
        #   include:                             # the deployment definition the site needs besides the charts:
        #     - helmfile.yaml                    # paths or globs relative to this file (*, ?, ** across folders;
        #     - environments/                    # a folder means everything below it)
        #     - values/*.yaml

        """

    /// The text of `list` after `header` comment lines; `notes[chart name]` is written as a
    /// comment beside that chart's name.
    public static func text(_ list: ChartList, header: [String], notes: [String: String] = [:]) -> String {
        var writer = YAMLWriter()
        for line in header { writer.append(raw: line.isEmpty ? "#\n" : "# " + line + "\n") }
        writer.append(raw: list.repositories.isEmpty ? "repositories: []\n" : "repositories:\n")
        for repository in list.repositories {
            writer.mappingItem([("name", repository.name), ("url", repository.url)], indent: 2)
            if repository.plainHTTP { writer.field("plainHTTP", true, indent: 4) }
        }
        writer.append(raw: list.charts.isEmpty ? "\ncharts: []\n" : "\ncharts:\n")
        for chart in list.charts {
            var first = "  - name: " + YAMLWriter.scalar(chart.name)
            if let note = notes[chart.name] { first += "    # " + note }
            writer.append(raw: first + "\n")
            writer.field("repository", chart.repository, indent: 4)
            if let version = chart.version { writer.append(raw: "    version: " + Quoting.doubleQuoted(version) + "\n") }
            if chart.devel { writer.field("devel", true, indent: 4) }
        }
        if !list.bundle.include.isEmpty {
            writer.append(raw: "\nbundle:\n")
            writer.list("include", list.bundle.include.map(\.pattern.text), indent: 2)
        }
        return writer.text
    }
}
