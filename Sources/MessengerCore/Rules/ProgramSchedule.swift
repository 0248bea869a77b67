import Foundation

/// When `serve` runs a program by itself (#25): daily at a wall-clock time in the account's time
/// zone, or every so often (at least a minute). `programs schedule PROGRAM --daily 09:30 |
/// --every 15m | --off`.
public enum ProgramSchedule: Equatable, Sendable, CustomStringConvertible {
    case daily(minuteOfDay: Int)
    case every(minutes: Int)

    /// "09:30": hours 00–23, minutes 00–59.
    public static func daily(_ text: String) throws -> ProgramSchedule {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...23).contains(h), (0...59).contains(m)
        else { throw DomainError("--daily takes HH:MM in the account's time zone, such as 09:30, not \(Display.quoted(text))") }
        return .daily(minuteOfDay: h * 60 + m)
    }

    /// "15m", "1h", "1h30m", "2d": at least a minute, at most 30 days.
    public static func every(_ text: String) throws -> ProgramSchedule {
        let refusal = DomainError(
            "--every takes a duration such as 15m, 1h, 1h30m or 1d (at least 1m, at most 30d), not \(Display.quoted(text))")
        var minutes = 0
        var number = ""
        var units: Set<Character> = []
        for c in text {
            if c.isASCII, c.isNumber {
                number.append(c)
                continue
            }
            guard let n = Int(number), number.count <= 6, let per = ["d": 1440, "h": 60, "m": 1][String(c)], units.insert(c).inserted
            else { throw refusal }
            minutes += n * per
            number = ""
        }
        guard number.isEmpty, !units.isEmpty, (1...43_200).contains(minutes) else { throw refusal }
        return .every(minutes: minutes)
    }

    /// The next time it is due strictly after `now`: today's (or tomorrow's) wall-clock time in the
    /// account's zone, or `now` plus the interval. On the night clocks go forward a time that
    /// doesn't exist that day runs at the same distance after the change (02:30 becomes 03:30).
    public func next(after now: Int64, calendar: AccountCalendar) -> Int64 {
        switch self {
        case .every(let minutes): return now + Int64(minutes) * 60_000
        case .daily(let minute):
            let today = calendar.day(ofMillis: now)
            for day in [today, today + 1, today + 2] {
                let at = calendar.millis(of: day, minuteOfDay: minute)
                if at > now { return at }
            }
            return now + 86_400_000
        }
    }

    public var description: String {
        switch self {
        case .daily(let m): return String(format: "daily %02d:%02d", m / 60, m % 60)
        case .every(let m):
            var parts: [String] = []
            if m / 1440 > 0 { parts.append("\(m / 1440)d") }
            if m % 1440 / 60 > 0 { parts.append("\(m % 1440 / 60)h") }
            if m % 60 > 0 { parts.append("\(m % 60)m") }
            return "every " + parts.joined()
        }
    }

    /// How it is stored: (kind, minutes).
    var stored: (kind: String, minutes: Int) {
        switch self {
        case .daily(let m): return ("daily", m)
        case .every(let m): return ("every", m)
        }
    }

    init?(kind: String, minutes: Int) {
        switch kind {
        case "daily": self = .daily(minuteOfDay: minutes)
        case "every": self = .every(minutes: minutes)
        default: return nil
        }
    }
}

extension AccountCalendar {
    /// The instant of a wall-clock minute of `day` in the account's zone.
    public func millis(of day: DayNumber, minuteOfDay: Int) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let ymd = string(for: day).split(separator: "-").compactMap { Int($0) }
        var parts = DateComponents()
        parts.year = ymd[0]
        parts.month = ymd[1]
        parts.day = ymd[2]
        parts.hour = minuteOfDay / 60
        parts.minute = minuteOfDay % 60
        guard let date = calendar.date(from: parts) else { return startMillis(of: day) + Int64(minuteOfDay) * 60_000 }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
