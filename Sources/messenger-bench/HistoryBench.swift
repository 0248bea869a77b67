import Foundation
import MessengerCore

// The history section of `make bench`: 100 days of daily runs, time-compressed (fewer contacts,
// and 8 days kept instead of 90, so the steady state comes within the simulation), with the
// compaction a run does afterwards. A run's time, the database's size and the profile page's time
// on day 100 beside day 8: flat means history no longer costs anything.
enum HistoryBench {
    static func figures(contacts: Int, folder: URL) throws -> [Figure] {
        let calendar = AccountCalendar(timeZone: TimeZone(identifier: "UTC")!)
        let firstDay = calendar.day(ofMillis: Int64(Date().timeIntervalSince1970 * 1000)) - 100
        let database = try AppDatabase(path: folder.appendingPathComponent("history.db").path, mode: .createIfMissing)
        func workspace(day: DayNumber) -> Workspace {
            Workspace(
                database: database, clock: FixedClock(millis: calendar.startMillis(of: day) + 10 * 3_600_000), calendar: calendar,
                retentionDays: 8)
        }
        let setup = workspace(day: firstDay)
        try setup.pages.importAccounts(
            Data(#"{"data":[{"id":"8001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"T"}]}"#.utf8))
        let field = try setup.profiles.create(name: "Shop", pageID: "8001").summary.optInField
        var csv = "EMAIL,FIRSTNAME,\(field)\n"
        for i in 0..<contacts { csv += "c\(i)@example.com,N\(i),\(i % 5 == 0 ? "" : String(10_000_000 + i))\n" }
        try setup.contacts.importCSV(Data(csv.utf8))
        try setup.programs.create(name: "Daily")
        try setup.programs.setUtilityNode(
            program: "Daily", profile: "Shop", message: "Hi @FIRSTNAME@, here is your daily update.", acceptFlags: false)
        try setup.programs.activate(name: "Daily")

        var runSeconds: [Int: Double] = [:]
        var compactSeconds: [Int: Double] = [:]
        var sizes: [Int: Double] = [:]
        var pages: [Int: Double] = [:]
        for n in 1...100 {
            let ws = workspace(day: firstDay + n)
            let started = DispatchTime.now().uptimeNanoseconds
            _ = try ProgramRunner(workspace: ws).run(program: "Daily", reenrol: true)
            let ran = DispatchTime.now().uptimeNanoseconds
            _ = try ws.compactor.compact()
            runSeconds[n] = Double(ran - started) / 1e9
            compactSeconds[n] = Double(DispatchTime.now().uptimeNanoseconds - ran) / 1e9
            if n == 8 || n == 100 {
                sizes[n] = Double(try database.bytesInUse()) / 1e6
                pages[n] = try measure(20) {
                    _ = try ws.profiles.details(named: "Shop")
                    _ = try ws.stats.details(profile: "Shop")
                }.median
            }
        }
        // Medians of five days around each point: one run is noisy.
        func around(_ n: Int, _ times: [Int: Double]) -> Double { (n - 2...n + 2).compactMap { times[min(100, max(1, $0))] }.sorted()[2] }
        let early = around(8, runSeconds)
        let late = around(98, runSeconds)
        // Compaction starts on day 9 (8 days kept) and then deletes one day's rows a day.
        let compactEarly = around(12, compactSeconds)
        let compactLate = around(98, compactSeconds)
        return [
            Figure(
                name: "history: a day's run, day 98 vs 8 (\(contacts) contacts)", median: late * 1000, worst: late * 1000, unit: "ms",
                peer: early * 1000, ratio: early / late, target: "flat: ≥ 0.8", met: early / late >= 0.8),
            Figure(
                name: "history: the day's compaction, day 98 vs 12", median: compactLate * 1000, worst: compactLate * 1000, unit: "ms",
                peer: compactEarly * 1000, ratio: compactEarly / compactLate, target: "flat: ≥ 0.8 (one day's rows a day)",
                met: compactEarly / compactLate >= 0.8),
            Figure(
                name: "history: database in use, day 100 vs day 8 (8 days kept)", median: sizes[100] ?? 0, worst: sizes[100] ?? 0,
                unit: "MB",
                peer: sizes[8], ratio: (sizes[8] ?? 0) / max(0.001, sizes[100] ?? 1), target: "flat: ≥ 0.8",
                met: (sizes[8] ?? 0) / max(0.001, sizes[100] ?? 1) >= 0.8),
            Figure(
                name: "history: profile page + stats, day 100 vs day 8", median: pages[100] ?? 0, worst: pages[100] ?? 0, unit: "ms",
                peer: pages[8], ratio: (pages[8] ?? 0) / max(0.0001, pages[100] ?? 1), target: "flat: ≥ 0.8",
                met: (pages[8] ?? 0) / max(0.0001, pages[100] ?? 1) >= 0.8),
        ]
    }
}
