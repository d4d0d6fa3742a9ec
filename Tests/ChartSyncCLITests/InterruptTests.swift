import ChartSyncTestSupport
import Foundation
import Testing

/// Ctrl-C (SIGINT), SIGTERM and SIGKILL during `bundle` and `verify --extract`, on the built
/// binary. A trapped signal ends the run with exit 130 and nothing of it left on disk; after a
/// SIGKILL, the next run to the same place removes what the killed one left. The payload holds
/// 200 MB of random data so that each run takes a moment; each test waits (with a deadline) for
/// the run's temporary file or directory to appear, and for its signal trap to be armed, before
/// it signals, and runs it niced.
@Suite struct InterruptTests {
    /// The example project with 200 MB of random bytes in charts/patches.
    private func bigProject() throws -> ExampleProject {
        let project = try ExampleProject()
        try project.pull(hello: "1.0.0")
        try FileManager.default.createDirectory(atPath: project.path + "/charts/patches", withIntermediateDirectories: true)
        try runCommand(["openssl", "rand", "-out", project.path + "/charts/patches/big.bin", "200000000"])
        return project
    }

    /// The signalled runs run at the lowest priority: on a busy machine they then make progress
    /// only when this test's polling thread can run too, so the signal lands mid-run.
    private static let niced = ["nice", "-n", "19"]


    private func log(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    struct ExtractCase: Sendable, CustomStringConvertible {
        let signal: Int32
        /// Whether DIR holds an earlier delivery (else it is missing).
        let overSite: Bool
        var description: String { (signal == SIGINT ? "SIGINT" : "SIGTERM") + (overSite ? " over an installed site" : " into a missing directory") }
    }

    /// SIGINT or SIGTERM while the payload is being extracted: exit 130, "interrupted", and
    /// DIR's parent as it was (a missing DIR still missing, an installed site byte-identical, no
    /// staging directory).
    @Test(arguments: [ExtractCase(signal: SIGINT, overSite: false), ExtractCase(signal: SIGTERM, overSite: true)])
    func interruptedExtractionLeavesNothing(_ c: ExtractCase) throws {
        let project = try bigProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let sites = try TemporaryDirectory(prefix: "chartsync-sites")
        let site = sites.file("site")
        if c.overSite {
            try FileManager.default.moveItem(atPath: project.path + "/charts/patches/big.bin", toPath: bundles.file("big.bin"))
            try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("small.bundle"))
            #expect(try CLI.run(["verify", bundles.file("small.bundle"), "--extract", site], in: sites.path).status == 0)
            try FileManager.default.moveItem(atPath: bundles.file("big.bin"), toPath: project.path + "/charts/patches/big.bin")
        }
        let bundle = try project.bundle(hello: "~1.1", name: "site", sequence: 2, to: bundles.file("big.bundle"))
        let before = c.overSite ? try treeSnapshot(site) : []
        let inode = c.overSite ? try inodeNumber(site) : ""
        let parent = try entries(sites.path)

        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess(Self.niced + [CLI.binary, "verify", bundle, "--extract", site], outputPath: logs.file("out"))
        let staging = try waitForEntry(in: sites.path, prefix: ".site.chartsync-staging-", child: child)
        try waitUntilSignalsTrapped(child)
        kill(child.pid, c.signal)
        #expect(child.wait(timeout: 60) == 130, "\(log(logs.file("out")))")
        #expect(log(logs.file("out")).contains("interrupted; nothing was changed"), "\(log(logs.file("out")))")
        #expect(!FileManager.default.fileExists(atPath: sites.file(staging)))
        #expect(try entries(sites.path) == parent)
        if c.overSite {
            #expect(try treeSnapshot(site) == before)
            #expect(try inodeNumber(site) == inode)
        }
    }

    /// SIGKILL while the payload is being extracted leaves the staging directory (and no DIR);
    /// the next `verify --extract` installs the bundle and removes it.
    @Test func killedExtractionIsCleanedUpByTheNextRun() throws {
        let project = try bigProject()
        let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
        let bundle = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("big.bundle"))
        let sites = try TemporaryDirectory(prefix: "chartsync-sites")
        let site = sites.file("site")
        let child = try ChildProcess(Self.niced + [CLI.binary, "verify", bundle, "--extract", site])
        let staging = try waitForEntry(in: sites.path, prefix: ".site.chartsync-staging-", child: child)
        kill(child.pid, SIGKILL)
        #expect(child.wait(timeout: 60) == 128 + SIGKILL)
        #expect(try entries(sites.path) == [staging], "the killed run's staging directory is left, and no site")

        let next = try CLI.run(["verify", bundle, "--extract", site], in: sites.path)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try entries(sites.path) == ["site"])
        #expect(try sha256Hex(of: site + "/charts/patches/big.bin") == sha256Hex(of: project.path + "/charts/patches/big.bin"))
    }

    /// SIGINT or SIGTERM while the bundle is being written: exit 130, "interrupted", and no
    /// bundle, sidecar or partial file.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedBundleLeavesNothing(_ signal: Int32) throws {
        let project = try bigProject()
        let out = try TemporaryDirectory(prefix: "chartsync-out")
        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess(Self.niced + [CLI.binary, "bundle", "-f", project.path + "/chartsync.yaml", "-o", out.file("site.bundle")],
                                     outputPath: logs.file("out"))
        _ = try waitForEntry(in: out.path, prefix: ".site.bundle.partial-", child: child)
        try waitUntilSignalsTrapped(child)
        kill(child.pid, signal)
        #expect(child.wait(timeout: 60) == 130, "\(log(logs.file("out")))")
        #expect(log(logs.file("out")).contains("interrupted; no bundle was written"), "\(log(logs.file("out")))")
        #expect(try entries(out.path).isEmpty)
        #expect(try project.project.leftovers().isEmpty)
    }

    /// SIGKILL while the bundle (whole or split) is being written leaves its partial file; the
    /// next `bundle` to the same output removes it and writes the bundle.
    @Test(arguments: [false, true])
    func killedBundleIsCleanedUpByTheNextRun(_ split: Bool) throws {
        let project = try bigProject()
        let out = try TemporaryDirectory(prefix: "chartsync-out")
        let splitArguments = split ? ["--split-size", "64M"] : []
        let child = try ChildProcess(Self.niced + [CLI.binary, "bundle", "-f", project.path + "/chartsync.yaml", "-o", out.file("site.bundle")] + splitArguments)
        let partial = try waitForEntry(in: out.path, prefix: split ? ".site.bundle.000.partial-" : ".site.bundle.partial-", child: child)
        kill(child.pid, SIGKILL)
        #expect(child.wait(timeout: 60) == 128 + SIGKILL)
        let left = try entries(out.path)
        #expect(left.contains(partial) && left.allSatisfy { $0.hasPrefix(".site.bundle.") && $0.contains(".partial-") }, "\(left)")

        let next = try CLI.run(["bundle", "-o", out.file("site.bundle")] + splitArguments, in: project.path)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try entries(out.path) == (split ? ["site.bundle.000", "site.bundle.001", "site.bundle.002", "site.bundle.parts", "site.bundle.sha256"]
                                               : ["site.bundle", "site.bundle.sha256"]))
        #expect(try CLI.run(["verify", out.file(split ? "site.bundle.000" : "site.bundle")], in: out.path).status == 0)
    }

    /// A signal that arrives once the command has started its work is never lost: SignalTrap
    /// returns only when libdispatch handles SIGINT and SIGTERM (before, they were set to SIG_IGN
    /// and the handler was installed later on libdispatch's own thread, so a Ctrl-C in between
    /// was dropped and the run went on to exit 0). An LD_PRELOAD shim holds libdispatch's
    /// sigaction() for SIGINT/SIGTERM for 3 s, which made that window certain; the command must
    /// now wait for it, and a SIGINT sent once the staging directory or partial file exists
    /// gives exit 130 and nothing left, as any other Ctrl-C.
    @Test(arguments: ["verify", "bundle"])
    func signalBeforeTheTrapIsArmedIsNotLost(_ command: String) throws {
        let shim = try TemporaryDirectory(prefix: "chartsync-shim")
        try shim.write("slowarm.c", Array("""
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <signal.h>
            #include <unistd.h>
            int sigaction(int signo, const struct sigaction *act, struct sigaction *old) {
                int (*real)(int, const struct sigaction *, struct sigaction *) =
                    (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
                if ((signo == SIGINT || signo == SIGTERM) && act && act->sa_handler != SIG_IGN && act->sa_handler != SIG_DFL) sleep(3);
                return real(signo, act, old);
            }

            """.utf8))
        try runCommand(["cc", "-shared", "-fPIC", "-o", shim.file("slowarm.so"), shim.file("slowarm.c"), "-ldl"])
        let project = try bigProject()
        let out = try TemporaryDirectory(prefix: "chartsync-out")
        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let preload = ["env", "LD_PRELOAD=" + shim.file("slowarm.so")]
        let child: ChildProcess
        if command == "verify" {
            let bundles = try TemporaryDirectory(prefix: "chartsync-bundles")
            let bundle = try project.bundle(hello: "1.0.0", name: "site", sequence: 1, to: bundles.file("big.bundle"))
            child = try ChildProcess(preload + [CLI.binary, "verify", bundle, "--extract", out.file("site")], outputPath: logs.file("out"))
            _ = try waitForEntry(in: out.path, prefix: ".site.chartsync-staging-", child: child)
        } else {
            child = try ChildProcess(preload + [CLI.binary, "bundle", "-f", project.path + "/chartsync.yaml", "-o", out.file("site.bundle")],
                                     outputPath: logs.file("out"))
            _ = try waitForEntry(in: out.path, prefix: ".site.bundle.partial-", child: child)
        }
        kill(child.pid, SIGINT)
        #expect(child.wait(timeout: 60) == 130, "\(log(logs.file("out")))")
        #expect(try entries(out.path).isEmpty)
    }
}
