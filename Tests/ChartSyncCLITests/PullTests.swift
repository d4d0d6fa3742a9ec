import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import Foundation
import Testing

/// The example repository's index, with URLs pointing at /charts/<file> on the fault server.
private func exampleIndex(digestOverride: [String: String] = [:], dropDigest: Set<String> = []) throws -> String {
    var text = try String(contentsOfFile: Fixtures.packageRoot + "/examples/repo/index.yaml", encoding: .utf8)
    text = text.replacingOccurrences(of: "    - hello-", with: "    - charts/hello-")
    for (file, digest) in digestOverride {
        let real = try sha256Hex(Fixtures.packageRoot + "/examples/repo/" + file)
        text = text.replacingOccurrences(of: real, with: digest)
    }
    for file in dropDigest {
        let real = try sha256Hex(Fixtures.packageRoot + "/examples/repo/" + file)
        text = text.replacingOccurrences(of: "    digest: \"\(real)\"\n", with: "")
    }
    return text
}

private func sha256Hex(_ path: String) throws -> String {
    String(try runCommand(["sha256sum", path]).prefix(64))
}

private let webOnly = """
    repositories:
      - name: r
        url: {{URL}}
    charts:
      - name: hello-web
        repository: r
        version: "1.1.0"

    """

@Suite struct PullRealReposTests {
    /// argo-helm (relative URLs, full real index) and NVIDIA (absolute URLs rewritten to the
    /// local server): every digest proven, the lock right, a second run downloads nothing.
    @Test func vendorsRealChartsAndProvesEveryDigest() throws {
        let www = try TemporaryDirectory()
        let nvidiaIndex = try String(contentsOfFile: Fixtures.path("repo-nvidia-k8s-device-plugin/index.yaml"), encoding: .utf8)
        try FileManager.default.createDirectory(atPath: www.file("nvidia/stable"), withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("repo-nvidia-k8s-device-plugin/stable")) {
            try FileManager.default.copyItem(atPath: Fixtures.path("repo-nvidia-k8s-device-plugin/stable/" + file),
                                             toPath: www.file("nvidia/stable/" + file))
        }
        try FileManager.default.createSymbolicLink(atPath: www.file("argo"), withDestinationPath: Fixtures.path("repo-argo-helm"))
        let nginx = try StaticServer(root: www.path)
        defer { nginx.stop() }
        try www.write("nvidia/index.yaml", Array(nvidiaIndex.replacingOccurrences(
            of: "https://nvidia.github.io/k8s-device-plugin/", with: nginx.url("nvidia/")).utf8))

        let argo = ["argo": "0.1.0", "argo-cd": "0.1.0", "argo-ci": "0.1.0", "argo-events": "0.2.0", "argo-lite": "0.1.0",
                    "argo-rollouts": "0.1.0", "argo-workflows": "0.1.0", "argocd-applicationset": "0.1.0",
                    "argocd-notifications": "1.0.0"]
        var list = "repositories:\n  - name: argo\n    url: \(nginx.url("argo"))\n  - name: nvidia\n    url: \(nginx.url("nvidia"))\ncharts:\n"
        for (name, version) in argo.sorted(by: { $0.key < $1.key }) {
            // argo-cd 0.1.0 is packed as "./Chart.yaml": unpack it too.
            list += "  - name: \(name)\n    repository: argo\n    version: \"\(version)\"\n" + (name == "argo-cd" ? "    unpack: true\n" : "")
        }
        list += "  - name: nvidia-device-plugin\n    repository: nvidia\n    version: \"0.14.0\"\n    unpack: true\n"
        list += "  - name: gpu-feature-discovery\n    repository: nvidia\n    version: \"0.15.0-rc.1\"\n"
        let project = try PullProject(chartList: list)
        let run = try project.pull(["--json"])
        #expect(run.status == 0, "\(run.stderr)")

        // Every file equals the upstream file byte for byte (SHA256SUMS made by sha256sum).
        var sums: [String: String] = [:]
        for folder in ["repo-argo-helm", "repo-nvidia-k8s-device-plugin"] {
            for line in try String(contentsOfFile: Fixtures.path(folder + "/SHA256SUMS"), encoding: .utf8).split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                sums[String(parts[1].split(separator: "/").last!)] = String(parts[0])
            }
        }
        let lock = try LockfileCoding.parse(Array(try project.read("versions.lock").utf8), source: "versions.lock")
        #expect(lock.entries.count == 11)
        for entry in lock.entries {
            #expect(try sha256Hex(project.path + "/charts/external/" + entry.fileName) == sums[entry.fileName], "\(entry.fileName)")
            #expect(entry.sha256.hex == sums[entry.fileName])
        }
        #expect(lock.entry(named: "nvidia-device-plugin")?.version == "0.14.0")
        #expect(lock.entry(named: "gpu-feature-discovery")?.version == "0.15.0-rc.1")
        #expect(lock.entry(named: "argo-cd")?.url == nginx.url("argo/argo-cd-0.1.0.tgz"))
        #expect(lock.entry(named: "nvidia-device-plugin")?.url == nginx.url("nvidia/stable/nvidia-device-plugin-0.14.0.tgz"))

        // The unpacked chart matches its tree digest, and Helm loads it.
        let tree = try TreeDigest.compute(directory: project.path + "/charts/external/nvidia-device-plugin-v0.14.0")
        #expect(lock.entry(named: "nvidia-device-plugin")?.tree == tree.digest)
        let loaded = try runCommand(["python3", "-c", "import sys, helm_python.chart as c; ch = c.Chart.load(sys.argv[1]); print(ch.name, ch.version)",
                                     project.path + "/charts/external/nvidia-device-plugin-v0.14.0"])
        #expect(loaded == "nvidia-device-plugin 0.14.0\n")
        #expect(FileManager.default.fileExists(atPath: project.path + "/charts/external/argo-cd-v0.1.0/Chart.yaml"))
        #expect(lock.entry(named: "argo-cd")?.tree != nil)

        // A second run downloads no tarball and rewrites no file.
        let before = try project.snapshot()
        let times = try runCommand(["sh", "-c", "cd \"$0\" && stat -c '%n %Y.%y' versions.lock charts/external/*", project.path])
        let log = nginx.accessLog().count
        let again = try project.pull()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("versions.lock unchanged; 0 added, 0 updated, 11 unchanged"), "\(again.stdout)")
        #expect(try project.snapshot() == before)
        #expect(try runCommand(["sh", "-c", "cd \"$0\" && stat -c '%n %Y.%y' versions.lock charts/external/*", project.path]) == times)
        let requests = nginx.accessLog(atLeast: log + 2).dropFirst(log)
        #expect(requests.allSatisfy { $0.contains("/index.yaml") }, "\(Array(requests))")
    }
}

@Suite struct PullFaultTests {
    static let files = ["hello-web-1.1.0.tgz"]

    private func setUp(index: String? = nil) throws -> (FaultServer, FaultRepository, PullProject) {
        let server = try FaultServer()
        let repo = try FaultRepository(server: server, tarballs: try FaultRepository.example(Self.files),
                                       index: try index ?? exampleIndex())
        let project = try PullProject(chartList: webOnly.replacingOccurrences(of: "{{URL}}", with: repo.url))
        return (server, repo, project)
    }

    /// A project already pulled once, so "nothing lost" has something to lose.
    private func pulledProject() throws -> (FaultServer, FaultRepository, PullProject, [String]) {
        let (server, repo, project) = try setUp()
        let first = try project.pull()
        #expect(first.status == 0, "\(first.stderr)")
        return (server, repo, project, try project.snapshot())
    }

    private func switchTo(_ version: String, _ project: PullProject) throws {
        try project.setChartList(try project.read("chartsync.yaml").replacingOccurrences(of: "\"1.1.0\"", with: "\"\(version)\""))
    }

    @Test func digestMismatchChangesNothing() throws {
        let (server, repo, project, before) = try pulledProject()
        defer { server.stop() }
        try switchTo("1.0.0", project)
        let chartList = try project.read("chartsync.yaml")
        // The 1.0.0 URL serves the bytes of another chart.
        try server.plan("/charts/hello-web-1.0.0.tgz", .ok(repo.tarballs["hello-web-1.1.0.tgz"]!))
        let run = try project.pull()
        #expect(run.status == 1)
        #expect(run.stderr.contains("digest mismatch for chart \"hello-web\" 1.0.0 from \(server.url("/charts/hello-web-1.0.0.tgz"))"), "\(run.stderr)")
        #expect(run.stderr.contains("expected sha256:"))
        #expect(try project.snapshot().filter { !$0.hasPrefix("./chartsync.yaml") } == before.filter { !$0.hasPrefix("./chartsync.yaml") })
        #expect(try project.read("chartsync.yaml") == chartList)
        #expect(try project.leftovers().isEmpty)
    }

    @Test func serverErrorThenSuccess() throws {
        let (server, repo, project) = try setUp()
        defer { server.stop() }
        try server.plan("/charts/hello-web-1.1.0.tgz", .status(500), .ok(repo.tarballs["hello-web-1.1.0.tgz"]!))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("retrying"), "\(run.stderr)")
        #expect(try server.requests(path: "/charts/hello-web-1.1.0.tgz").count == 2)
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
    }

    @Test func resetMidBodyIsRetried() throws {
        let (server, repo, project) = try setUp()
        defer { server.stop() }
        let bytes = repo.tarballs["hello-web-1.1.0.tgz"]!
        try server.plan("/charts/hello-web-1.1.0.tgz", .resetMidBody(body: bytes, after: 100), .ok(bytes))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try sha256Hex(project.path + "/charts/external/hello-web-1.1.0.tgz") == sha256Hex(Fixtures.packageRoot + "/examples/repo/hello-web-1.1.0.tgz"))
    }

    /// A Content-Length larger than what is sent, every time: fails after the retries, nothing changes.
    @Test func truncatedBodyChangesNothing() throws {
        let (server, repo, project, before) = try pulledProject()
        defer { server.stop() }
        try switchTo("1.0.0", project)
        let after = try project.snapshot()
        try server.plan("/charts/hello-web-1.0.0.tgz", .truncated(body: repo.tarballs["hello-web-1.1.0.tgz"]!, after: 200))
        let run = try project.pull()
        #expect(run.status == 3)
        #expect(run.stderr.contains("chart \"hello-web\"") && run.stderr.contains("/charts/hello-web-1.0.0.tgz"), "\(run.stderr)")
        #expect(try project.snapshot() == after)
        #expect(before.count == after.count)
        #expect(try server.requests(path: "/charts/hello-web-1.0.0.tgz").count == 3)
    }

    @Test func stalledBodyIsAborted() throws {
        let (server, repo, project, _) = try pulledProject()
        defer { server.stop() }
        try switchTo("1.0.0", project)
        let before = try project.snapshot()
        try server.plan("/charts/hello-web-1.0.0.tgz", .stall(body: repo.tarballs["hello-web-1.1.0.tgz"]!, after: 100, seconds: 60))
        let run = try project.pull(["--stall-timeout", "1", "--retries", "0"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("/charts/hello-web-1.0.0.tgz"), "\(run.stderr)")
        #expect(try project.snapshot() == before)
    }

    @Test func unreachableHostChangesNothing() throws {
        let (server, _, project, before) = try pulledProject()
        server.stop()
        let port = try LoopbackPort.closed()
        try project.setChartList(webOnly.replacingOccurrences(of: "{{URL}}", with: "http://127.0.0.1:\(port)/charts"))
        let after = try project.snapshot()
        let run = try project.pull()
        #expect(run.status == 3)
        #expect(run.stderr.contains("http://127.0.0.1:\(port)/charts/index.yaml"), "\(run.stderr)")
        #expect(try project.snapshot() == after)
        #expect(before.count == after.count)
    }

    /// Credentials go to the repository's host, not to the host a chart URL redirects to.
    @Test func redirectToAnotherHostKeepsCredentialsBehind() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let bytes = try FaultRepository.example(["hello-web-1.1.0.tgz"])["hello-web-1.1.0.tgz"]!
        _ = try FaultRepository(server: server, tarballs: [:], index: try exampleIndex())
        try server.plan("/charts/hello-web-1.1.0.tgz", .redirect(to: server.url("/mirror/hello-web-1.1.0.tgz", host: "localhost")))
        try server.plan("/mirror/hello-web-1.1.0.tgz", .ok(bytes))
        let list = webOnly.replacingOccurrences(of: "{{URL}}", with: server.url(""))
            .replacingOccurrences(of: "    url: ", with: "    usernameEnv: REPO_USER\n    passwordEnv: REPO_PASS\n    url: ")
        let project = try PullProject(chartList: list)
        let run = try project.pull(environment: ["REPO_USER": "alice", "REPO_PASS": "s3cret-pw"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try server.requests(path: "/index.yaml").first?.authorization?.hasPrefix("Basic ") == true)
        #expect(try server.requests(path: "/charts/hello-web-1.1.0.tgz").first?.authorization?.hasPrefix("Basic ") == true)
        #expect(try server.requests(path: "/mirror/hello-web-1.1.0.tgz").first?.authorization == nil)
        #expect(!(try project.read("versions.lock")).contains("alice"))
        #expect(!run.stderr.contains("s3cret-pw") && !run.stdout.contains("s3cret-pw"))
    }

    @Test func missingDigestIsRefusedUnlessAllowed() throws {
        let (server, _, project) = try setUp(index: try exampleIndex(dropDigest: ["hello-web-1.1.0.tgz"]))
        defer { server.stop() }
        let run = try project.pull()
        #expect(run.status == 1)
        #expect(run.stderr.contains("has no digest") && run.stderr.contains("allowMissingDigest"), "\(run.stderr)")
        #expect(try server.requests(path: "/charts/hello-web-1.1.0.tgz").isEmpty)
        try project.setChartList(try project.read("chartsync.yaml") + "    allowMissingDigest: true\n")
        let allowed = try project.pull()
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func chartYAMLMustNameTheChartAndVersion() throws {
        // hello-web 1.0.0's entry serves hello-worker's tarball, with that tarball's real digest.
        let worker = try FaultRepository.example(["hello-worker-0.5.0.tgz"])["hello-worker-0.5.0.tgz"]!
        let workerDigest = try sha256Hex(Fixtures.packageRoot + "/examples/repo/hello-worker-0.5.0.tgz")
        let (server, _, project) = try setUp(index: try exampleIndex(digestOverride: ["hello-web-1.0.0.tgz": workerDigest]))
        defer { server.stop() }
        try server.plan("/charts/hello-web-1.0.0.tgz", .ok(worker))
        try switchTo("1.0.0", project)
        let run = try project.pull()
        #expect(run.status == 1)
        #expect(run.stderr.contains("should hold chart \"hello-web\" 1.0.0 but its Chart.yaml says \"hello-worker\" 0.5.0"), "\(run.stderr)")
        #expect(!project.exists("charts/external/hello-web-1.0.0.tgz"))
    }

    @Test func republishedVersionIsRefused() throws {
        let (server, _, project, before) = try pulledProject()
        defer { server.stop() }
        try server.plan("/index.yaml", .ok(Array(try exampleIndex(digestOverride: ["hello-web-1.1.0.tgz": String(repeating: "0", count: 64)]).utf8)))
        let run = try project.pull()
        #expect(run.status == 1)
        #expect(run.stderr.contains("now publishes other bytes for chart \"hello-web\" 1.1.0"), "\(run.stderr)")
        #expect(try project.snapshot() == before)
    }

    @Test(arguments: ["versions.lock", "charts/external"])
    func symlinkIsNeverWrittenThrough(_ link: String) throws {
        let (server, _, project) = try setUp()
        defer { server.stop() }
        let outside = try TemporaryDirectory()
        try outside.write("victim/keep", Array("keep".utf8))
        try FileManager.default.createDirectory(atPath: project.path + "/charts", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: project.path + "/" + link, withDestinationPath: outside.file("victim"))
        let run = try project.pull()
        #expect(run.status == 3)
        #expect(run.stderr.contains(project.path + "/" + link) && run.stderr.contains("symbolic link"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.file("victim")) == ["keep"])
        #expect(try server.requests().isEmpty)
    }

    @Test func secondRunAtOnceIsLocked() throws {
        let (server, _, project) = try setUp()
        defer { server.stop() }
        // Hold the project's lock the way a running chartsync does.
        let holder = try ChildProcess(["python3", "-c", "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", project.path], captureStdout: true)
        defer { holder.terminate() }
        #expect(try holder.readLine(timeout: 10) == "held")
        let run = try project.pull()
        #expect(run.status == 3)
        #expect(run.stderr.contains("\(project.path) is locked: another chartsync is working on it"), "\(run.stderr)")
        #expect(!project.exists("versions.lock"))
    }

    @Test func malformedIndexNamesTheURLAndLine() throws {
        let (server, _, project) = try setUp(index: "apiVersion: v1\nentries:\n  hello-web:\n  - name: hello-web\n     version: 1\n")
        defer { server.stop() }
        let run = try project.pull()
        #expect(run.status == 3)
        #expect(run.stderr.contains(server.url("/index.yaml") + ": line 5"), "\(run.stderr)")
        #expect(!project.exists("versions.lock"))
    }

    @Test func badChartListFailsBeforeAnyDownload() throws {
        let (server, _, project) = try setUp()
        defer { server.stop() }
        try project.setChartList(try project.read("chartsync.yaml") + "  - name: hello-web\n    repository: r\n")
        let run = try project.pull()
        #expect(run.status == 2)
        #expect(run.stderr.contains("chartsync.yaml: line 8: chart \"hello-web\" is listed twice (first at line 5)"), "\(run.stderr)")
        #expect(try server.requests().isEmpty)
    }

    /// A pulled project switched to 1.0.0, whose tarball the server sends slowly, and a pull of it
    /// under way (the server has logged the tarball's request): ready to be signalled.
    private func slowPull() throws -> (server: FaultServer, project: PullProject, before: [String], child: ChildProcess) {
        let (server, repo, project, _) = try pulledProject()
        try switchTo("1.0.0", project)
        let before = try project.snapshot()
        try server.plan("/charts/hello-web-1.0.0.tgz", .slow(body: repo.tarballs["hello-web-1.1.0.tgz"]!, chunk: 10, interval: 0.5))
        let child = try ChildProcess([CLI.binary, "pull", "-f", project.path + "/chartsync.yaml"])
        try waitForRequest(server, path: "/charts/hello-web-1.0.0.tgz", child: child)
        return (server, project, before, child)
    }

    @Test func interruptedRunChangesNothing() throws {
        let (server, project, before, child) = try slowPull()
        defer { server.stop() }
        kill(child.pid, SIGINT)
        let status = child.wait(timeout: 20)
        #expect(status == 130)
        #expect(try project.snapshot() == before)
        #expect(try project.leftovers().isEmpty)
    }

    @Test func killedRunLeavesStateAndTheNextRunCleansUp() throws {
        let (server, project, before, child) = try slowPull()
        defer { server.stop() }
        kill(child.pid, SIGKILL)
        _ = child.wait(timeout: 20)
        #expect(try project.snapshot().filter { !$0.contains(".chartsync-staging-") } == before)
        try server.plan("/charts/hello-web-1.0.0.tgz", .ok(Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.packageRoot + "/examples/repo/hello-web-1.0.0.tgz")))))
        let next = try project.pull()
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try project.leftovers().isEmpty)
        #expect(project.exists("charts/external/hello-web-1.0.0.tgz") && !project.exists("charts/external/hello-web-1.1.0.tgz"))
    }

    /// A disk that fills up: a 64 KiB tmpfs holding the project.
    @Test func diskFullChangesNothing() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let big = testBytes(count: 200_000, seed: 7)
        let index = "apiVersion: v1\nentries:\n  big:\n  - apiVersion: v2\n    name: big\n    version: 1.0.0\n    digest: \(try sha256HexOf(big))\n    urls:\n    - charts/big-1.0.0.tgz\n"
        _ = try FaultRepository(server: server, tarballs: ["big-1.0.0.tgz": big], index: index)
        let mount = try TemporaryDirectory()
        try runCommand(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.path])
        defer { _ = try? runCommand(["umount", mount.path]) }
        let list = webOnly.replacingOccurrences(of: "{{URL}}", with: server.url(""))
        try Data(list.utf8).write(to: URL(fileURLWithPath: mount.path + "/chartsync.yaml"))
        try FileManager.default.createDirectory(atPath: mount.path + "/charts/external", withIntermediateDirectories: true)
        try Data("previous lock\n".utf8).write(to: URL(fileURLWithPath: mount.path + "/versions.lock"))
        try FileManager.default.removeItem(atPath: mount.path + "/versions.lock")
        // First a real state: hello-web 1.1.0 vendored.
        _ = try FaultRepository(server: server, tarballs: try FaultRepository.example(Self.files), index: try exampleIndex())
        let first = try CLI.run(["pull"], in: mount.path)
        #expect(first.status == 0, "\(first.stderr)")
        let snapshotScript = "cd \"$0\" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do [ -f \"$p\" ] && sha256sum \"$p\" || echo \"$p/\"; done"
        let before = try runCommand(["sh", "-c", snapshotScript, mount.path])
        // Then a chart that does not fit.
        try Data((list.replacingOccurrences(of: "hello-web", with: "big").replacingOccurrences(of: "\"1.1.0\"", with: "\"1.0.0\"")).utf8)
            .write(to: URL(fileURLWithPath: mount.path + "/chartsync.yaml"))
        try server.plan("/index.yaml", .ok(Array(index.utf8)))
        let full = try CLI.run(["pull"], in: mount.path)
        #expect(full.status == 3)
        #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
        let after = try runCommand(["sh", "-c", snapshotScript, mount.path])
        #expect(after.split(separator: "\n").filter { !$0.contains("chartsync.yaml") } == before.split(separator: "\n").filter { !$0.contains("chartsync.yaml") })
        #expect(!after.contains(".chartsync-"))
    }
}

/// Waits until `server` has logged a request for `path`, polling its request log; fails after
/// `timeout` seconds, or as soon as `child` (the run that should make the request) has exited.
private func waitForRequest(_ server: FaultServer, path: String, child: ChildProcess, timeout: Double = 30) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try server.requests(path: path).isEmpty {
        guard child.isRunning else { throw SupportError("chartsync exited before requesting \(path)") }
        guard Date() < deadline else { throw SupportError("no request for \(path) within \(Int(timeout)) s") }
        Thread.sleep(forTimeInterval: 0.02)
    }
}

private func sha256HexOf(_ bytes: [UInt8]) throws -> String {
    let dir = try TemporaryDirectory()
    let path = try dir.write("b", bytes)
    return try sha256Hex(path)
}
