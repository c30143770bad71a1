"""The dashboards' texts in Vietnamese (default) and English.

Numbers, percentages and dates use the shared locale formatting (:mod:`web.formatting`); only
the texts here are the dashboards' own. The language travels in the URL (``?lang=en``).
"""

from __future__ import annotations

from typing import Final

from web.formatting import Lang, pick

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # key: (Vietnamese, English)
    "app.title": ("Bảng điều hành nội bộ", "Internal dashboards"),
    "lang.switch": ("English", "Tiếng Việt"),
    "login.title": ("Đăng nhập", "Sign in"),
    "login.name": ("Tên đăng nhập", "User name"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Sign in"),
    "login.failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "login.expired": (
        "Biểu mẫu đã hết hạn, vui lòng thử lại.",
        "The form has expired; please try again.",
    ),
    "login.throttled": (
        "Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau 15 phút.",
        "Too many failed sign-ins. Please try again in 15 minutes.",
    ),
    "logout": ("Đăng xuất", "Sign out"),
    "nav.throughput": ("Hoạt động điểm tiêm", "Site throughput"),
    "nav.stock": ("Kho vắc xin", "Vaccine stock"),
    "nav.quality": ("Chất lượng dữ liệu", "Data quality"),
    "scope.national": ("Toàn quốc", "Whole country"),
    "scope.province": ("Tỉnh", "Province"),
    "scope.denied": (
        "Tài khoản của bạn chỉ xem được số liệu của tỉnh mình.",
        "Your account can only see its own province.",
    ),
    "sample.simulated": (
        "Dữ liệu mô phỏng: một mẫu {share} của cả nước. Điểm tiêm, kho và số liều là của mẫu; "
        "mỗi điểm tiêm có quy mô như một điểm tiêm thật.",
        "Simulated data: a {share} sample of the country. Sites, stock and doses are the "
        "sample's; each site is the size of a real site.",
    ),
    "stamp.as_of": ("Số liệu đến", "Data as of"),
    "stamp.updated": ("ETL ghi lần cuối lúc", "last ETL commit at"),
    "stamp.replay": (
        "Không có liều mới trong 24 giờ qua: trang hiển thị thời điểm có dữ liệu cuối cùng.",
        "No new doses in the last 24 hours: the page shows the time of the last data.",
    ),
    "stamp.none": ("Chưa có dữ liệu.", "No data yet."),
    "csv": ("Tải CSV", "Download CSV"),
    "empty": ("Không có dòng nào.", "No rows."),
    "more_rows": (
        "Hiển thị {shown} / {total} dòng; tệp CSV có đủ.",
        "Showing {shown} of {total} rows; the CSV has all.",
    ),
    "unavailable": (
        "Kho dữ liệu tạm thời không truy cập được.",
        "The data warehouse cannot be reached.",
    ),
    "preparing": (
        "Đang tính các số liệu của trang này; trang sẽ tự hiện khi xong.",
        "Preparing this page's figures; it appears by itself when they are ready.",
    ),
    "definitions": ("Định nghĩa chỉ số", "Indicator definitions"),
    "back_national": ("← Toàn quốc", "← Whole country"),
    # throughput
    "tp.doses_today": ("Số mũi hôm nay", "Doses today"),
    "tp.sites_open": ("Điểm tiêm đang mở", "Sites open now"),
    "tp.sites_active": ("Điểm tiêm có ghi nhận trong 2 giờ", "Sites reporting (last 2 h)"),
    "tp.sites_silent": ("Điểm tiêm im lặng", "Silent sites"),
    "tp.wait_median": ("Chờ từ check-in đến tiêm (trung vị)", "Check-in to dose (median)"),
    "tp.wait_p90": ("Chờ (phân vị 90)", "Check-in to dose (p90)"),
    "tp.minutes": ("{value} phút", "{value} min"),
    "tp.hourly": ("Số mũi mỗi giờ hôm nay", "Doses per hour today"),
    "tp.heatmap": ("Số mũi theo giờ × ngày (14 ngày)", "Doses by hour × day (14 days)"),
    "tp.hour": ("Giờ", "Hour"),
    "tp.provinces": (
        "Theo tỉnh (chọn để xem từng điểm tiêm)",
        "By province (select for its sites)",
    ),
    "tp.sites": ("Các điểm tiêm", "Sites"),
    "tp.silent": (
        "Điểm tiêm im lặng (mở cửa nhưng không có mũi tiêm trong {hours} giờ)",
        "Silent sites (open, no dose for {hours} h)",
    ),
    "tp.under": ("Điểm tiêm dưới 50% công suất (7 ngày)", "Sites under 50% of capacity (7 days)"),
    "tp.top": ("Điểm tiêm nhiều mũi nhất hôm nay", "Top sites today"),
    "tp.bottom": ("Điểm tiêm ít mũi nhất hôm nay (đã mở cửa)", "Bottom sites today (opened)"),
    "tp.waits": ("Thời gian từ check-in đến tiêm hôm nay", "Check-in to vaccination time today"),
    "tp.funnel": (
        "Đăng ký → check-in → tiêm (lịch hẹn hôm nay)",
        "Registered → checked in → vaccinated (today's appointments)",
    ),
    "tp.backlog": ("Lịch hẹn tồn đọng theo tỉnh", "Booking backlog per province"),
    "tp.definitions": (
        "Hôm nay: ngày theo giờ Việt Nam của thời điểm hiện tại. Đang mở: trong giờ mở cửa đăng ký của điểm tiêm. "
        "Có ghi nhận: có mũi tiêm trong giờ hiện tại hoặc giờ trước. Im lặng: đang mở nhưng không có mũi tiêm "
        "nào trong {hours} giờ kể từ khi mở cửa hoặc mũi cuối cùng (thiếu báo cáo hoặc điểm tiêm đóng). "
        "Thời gian chờ: từ lần quét QR tại bàn đến mũi tiêm đầu tiên sau đó của cùng người, cùng điểm, cùng ngày. "
        "Công suất: số mũi trung bình mỗi ngày trong 7 ngày ÷ công suất đăng ký. Tồn đọng: lịch hẹn còn ở trạng "
        "thái đã đặt; số ngày tồn đọng = lịch sắp tới ÷ tổng công suất các điểm tiêm của tỉnh.",
        "Today: the local (Viet Nam) day of the current time. Open: within the site's registered opening "
        "hours. Reporting: doses in the current or the previous hour. Silent: open, but no dose for {hours} "
        "hours since opening or its last dose (a reporting gap or a closed site). Waiting time: from the desk "
        "QR scan to the same person's first dose after it, at the same site on the same day. Capacity use: "
        "average doses a day over 7 days ÷ registered daily capacity. Backlog: appointments still 'booked'; "
        "days of backlog = upcoming bookings ÷ the daily capacity of the province's sites.",
    ),
    # stock
    "st.on_hand": ("Tồn kho theo cấp, vắc xin và lô", "Stock on hand by level, product and lot"),
    "st.supply": ("Số ngày đủ dùng", "Days of supply"),
    "st.expiring": ("Lô hết hạn trong 30 ngày", "Lots expiring within 30 days"),
    "st.wastage": ("Tỷ lệ hao hụt (30 ngày)", "Wastage rate (30 days)"),
    "st.stock_out": ("Ngày hết hàng tại điểm tiêm (30 ngày)", "Stock-out days at sites (30 days)"),
    "st.transfers": (
        "Chênh lệch: phiếu chuyển kho không khớp",
        "Discrepancy: transfers whose legs differ",
    ),
    "st.administered": (
        "Chênh lệch: liều xuất tiêm trong sổ kho so với số mũi trong kho dữ liệu (7 ngày)",
        "Discrepancy: doses the stock ledger says were given vs doses recorded (7 days)",
    ),
    "st.alerts": ("Cảnh báo cần xử lý", "Alerts to act on"),
    "st.total_stock": ("Tổng tồn kho", "Total stock on hand"),
    "st.low_cover": ("Nơi dưới 3 ngày đủ dùng", "Places under 3 days of supply"),
    "st.expiring_count": ("Lô sắp hết hạn", "Lots expiring"),
    "st.wastage_rate": ("Tỷ lệ hao hụt", "Wastage rate"),
    "alert.low_cover": ("Dưới 3 ngày đủ dùng", "Under 3 days of supply"),
    "alert.expiring": ("Lô sắp hết hạn", "Lot expiring"),
    "alert.expired": ("Lô đã hết hạn còn tồn", "Expired lot in stock"),
    "alert.silent": ("Điểm tiêm im lặng", "Silent site"),
    "alert.stock_out": ("Hết hàng", "Out of stock"),
    # data quality
    "dq.lag": ("Độ trễ ETL (từ lần ghi cuối)", "ETL lag (since the last commit)"),
    "dq.rate": ("Tốc độ nạp (dòng/giây, 24 giờ)", "Load rate (rows/s, 24 h)"),
    "dq.rejects_total": ("Dòng bị loại", "Rejected rows"),
    "dq.sources": ("Điểm kiểm tra cuối theo nguồn", "Last checkpoint per source"),
    "dq.hours": ("Khối lượng nạp theo giờ (48 giờ)", "Rows loaded per hour (48 h)"),
    "dq.rejects_reason": ("Dòng bị loại theo lý do và ngày", "Rejects by reason and day"),
    "dq.rejects_province": ("Dòng bị loại theo tỉnh", "Rejects by province"),
    "dq.examples": (
        "Ví dụ dòng bị loại (không có dữ liệu cá nhân)",
        "Examples of rejected rows (no personal data)",
    ),
    "dq.unknown_sites": ("Điểm tiêm không có trong danh mục", "Sites not in the site register"),
    "dq.reconcile": ("Đối soát sổ đăng ký ↔ kho dữ liệu", "Reconciliation: registry ↔ warehouse"),
    "dq.reconcile_missing": (
        "Chưa có: lệnh đối soát (python -m etl reconcile) chưa có trong bản cài đặt này. Không có số liệu nào được hiển thị thay thế.",
        "Not available: the reconciliation command (python -m etl reconcile) is not part of this installation. "
        "No figures are shown in its place.",
    ),
    "dq.reconcile_failed": (
        "Không chạy được đối soát ({error}); không có số liệu nào được hiển thị thay thế.",
        "The reconciliation could not run ({error}); no figures are shown in its place.",
    ),
    "dq.reconcile_table": (
        "Các ô lệch (tỉnh × ngày × vắc xin, {days} ngày)",
        "Differing cells (province × day × product, {days} days)",
    ),
    "dq.reconcile_equal": (
        "Khớp: {days} ngày gần nhất, {compared} ô (tỉnh × ngày × vắc xin) so sánh, 0 chênh lệch, đến điểm kiểm tra {checkpoint} "
        "(không tính {rejected} mũi bị loại và {in_flight} mũi đang truyền).",
        "Equal: last {days} days, {compared} cells (province × day × product) compared, 0 differences, as of "
        "checkpoint {checkpoint} ({rejected} rejected and {in_flight} in-flight doses left out).",
    ),
    "dq.reconcile_differs": (
        "LỆCH: {cells} ô khác nhau trong {days} ngày gần nhất ({compared} ô so sánh toàn quốc, đến điểm kiểm tra "
        "{checkpoint}). Sửa bằng python -m etl reconcile --repair.",
        "DIFFERENT: {cells} cells differ over the last {days} days ({compared} cells compared nationally, as of "
        "checkpoint {checkpoint}). Repair with python -m etl reconcile --repair.",
    ),
    "dq.national_only": (
        "Số liệu đường ống ETL là của toàn hệ thống (không chứa số liệu theo tỉnh).",
        "Pipeline figures are system-wide (they hold no per-province data).",
    ),
    # table headings (dashboards.view.Column): "col." and the column's label, one wording
    # per concept whichever page shows it
    "col.site_id": ("Mã điểm tiêm", "Site code"),
    "col.site_name": ("Tên điểm tiêm", "Site name"),
    "col.site_type": ("Loại", "Type"),
    "col.province_code": ("Mã tỉnh", "Province code"),
    "col.province_name": ("Tỉnh", "Province"),
    "col.level": ("Cấp", "Level"),
    "col.place": ("Nơi", "Place"),
    "col.places": ("Nơi", "Places"),
    "col.vaccine_code": ("Vắc xin", "Product"),
    "col.lot_number": ("Lô", "Lot"),
    "col.expiry_date": ("Hạn dùng", "Expiry"),
    "col.day": ("Ngày", "Day"),
    "col.hour": ("Giờ", "Hour"),
    "col.when": ("Thời điểm", "When"),
    "col.last_hour": ("Giờ có mũi cuối", "Last dose hour"),
    "col.doses": ("Số mũi", "Doses"),
    "col.doses_today": ("Mũi hôm nay", "Doses today"),
    "col.doses_recorded": ("Số mũi ghi nhận", "Doses recorded"),
    "col.daily_capacity": ("Công suất/ngày", "Capacity/day"),
    "col.sites": ("Số điểm tiêm", "Sites"),
    "col.open_now": ("Đang mở", "Open now"),
    "col.active_now": ("Có ghi nhận", "Reporting"),
    "col.silent": ("Im lặng", "Silent"),
    "col.silent_minutes": ("Phút im lặng", "Minutes silent"),
    "col.per_day": ("Mũi/ngày (7 ngày)", "Doses/day (7 days)"),
    "col.use": ("Công suất sử dụng", "Capacity used"),
    "col.checkins": ("Lượt check-in có tiêm", "Check-ins followed by a dose"),
    "col.median_minutes": ("Trung vị", "Median"),
    "col.p90_minutes": ("Phân vị 90", "p90"),
    "col.registered": ("Đăng ký", "Registered"),
    "col.checked_in": ("Đã check-in", "Checked in"),
    "col.vaccinated": ("Đã tiêm", "Vaccinated"),
    "col.checked_in_share": ("% check-in", "% checked in"),
    "col.vaccinated_share": ("% tiêm", "% vaccinated"),
    "col.cancelled": ("Đã hủy", "Cancelled"),
    "col.upcoming": ("Lịch sắp tới", "Upcoming"),
    "col.next_7_days": ("Trong 7 ngày", "Next 7 days"),
    "col.overdue": ("Quá hạn chưa xử lý", "Overdue, unresolved"),
    "col.days_of_backlog": ("Số ngày tồn đọng", "Days of backlog"),
    "col.quantity": ("Số liều", "Doses"),
    "col.alert": ("Cảnh báo", "Alert"),
    "col.detail": ("Chi tiết", "Detail"),
    "col.on_hand": ("Tồn", "On hand"),
    "col.on_hand_now": ("Tồn hiện tại", "On hand now"),
    "col.daily_use": ("Dùng/ngày (7 ngày)", "Use/day (7 days)"),
    "col.days_of_supply": ("Số ngày đủ dùng", "Days of supply"),
    "col.days_left": ("Còn (ngày)", "Days left"),
    "col.administered": ("Đã tiêm", "Administered"),
    "col.open_vial": ("Hủy lọ đã mở", "Open-vial"),
    "col.closed_vial": ("Hết hạn chưa mở", "Closed-vial"),
    "col.wastage_rate": ("Tỷ lệ hao hụt", "Wastage rate"),
    "col.open_vial_rate": ("Lọ đã mở", "Open-vial rate"),
    "col.closed_vial_rate": ("Lọ chưa mở", "Closed-vial rate"),
    "col.stock_out_days": ("Ngày hết hàng", "Stock-out days"),
    "col.transfer_id": ("Phiếu", "Transfer"),
    "col.sent": ("Xuất", "Sent"),
    "col.received": ("Nhận", "Received"),
    "col.difference": ("Chênh lệch", "Difference"),
    "col.stock_administered": ("Sổ kho", "Stock ledger"),
    "col.source": ("Nguồn", "Source"),
    "col.last_committed_at": ("Lần ghi cuối", "Last commit"),
    "col.position": ("Vị trí", "Position"),
    "col.batches": ("Lô", "Batches"),
    "col.rows_read": ("Dòng đọc", "Rows read"),
    "col.rows_loaded": ("Dòng nạp", "Rows loaded"),
    "col.rows_rejected": ("Dòng loại", "Rows rejected"),
    "col.rows_per_second": ("Dòng/giây", "Rows/s"),
    "col.lag_seconds": ("Độ trễ (giây)", "Lag (s)"),
    "col.reason": ("Lý do", "Reason"),
    "col.rejects": ("Dòng", "Rows"),
    "col.dose_id": ("Mã mũi tiêm", "Dose id"),
    "col.record": ("Bản ghi", "Record"),
    "col.doses_registry": ("Mũi (sổ đăng ký)", "Doses (registry)"),
    "col.doses_warehouse": ("Mũi (kho dữ liệu)", "Doses (warehouse)"),
    "col.versions_registry": ("Tổng phiên bản (sổ)", "Sum of versions (registry)"),
    "col.versions_warehouse": ("Tổng phiên bản (kho)", "Sum of versions (warehouse)"),
    # the corrections queue (dashboards.corrections)
    "nav.corrections": ("Yêu cầu sửa hồ sơ", "Correction requests"),
    "corrections.all": ("Tất cả", "All"),
    "corrections.empty": ("Không có yêu cầu nào", "No requests"),
    "corrections.back": ("← Danh sách yêu cầu", "← The queue"),
    "corrections.record": ("Hồ sơ hiện tại của công dân", "The citizen's current record"),
    "corrections.audit": ("Nhật ký xử lý", "Audit trail"),
    "corrections.claimed": ("Nội dung yêu cầu", "Claimed change"),
    "corrections.reason": ("Lý do (công dân sẽ đọc)", "Reason (the citizen reads it)"),
    "corrections.approve": ("Chấp thuận và sửa hồ sơ", "Approve and correct the record"),
    "corrections.reject": ("Từ chối", "Reject"),
    "corrections.kind.missing_dose": ("Thiếu mũi tiêm", "Missing dose"),
    "corrections.kind.not_mine": ("Mũi tiêm không phải của công dân", "Dose not theirs"),
    "corrections.kind.identity": ("Sai thông tin cá nhân", "Wrong identity"),
    "corrections.state.open": ("Đang chờ", "Open"),
    "corrections.state.approved": ("Đã chấp thuận", "Approved"),
    "corrections.state.rejected": ("Đã từ chối", "Rejected"),
    "corrections.col.request": ("Yêu cầu", "Request"),
    "corrections.col.kind": ("Loại", "Kind"),
    "corrections.col.province": ("Tỉnh xử lý", "Province handling it"),
    "corrections.col.filed": ("Ngày gửi", "Filed"),
    "corrections.col.age": ("Số ngày", "Days"),
    "corrections.col.state": ("Trạng thái", "State"),
    "corrections.dcol.dose": ("Mũi tiêm", "Dose"),
    "corrections.dcol.number": ("Mũi số", "Number"),
    "corrections.dcol.day": ("Ngày", "Day"),
    "corrections.dcol.product": ("Vắc xin", "Product"),
    "corrections.dcol.lot": ("Lô", "Lot"),
    "corrections.dcol.site": ("Điểm tiêm", "Site"),
    "corrections.dcol.state": ("Trạng thái", "State"),
    "corrections.dose.valid": ("Hợp lệ", "Valid"),
    "corrections.dose.void": ("Đã hủy", "Void"),
    "corrections.claim.day": ("Ngày", "Day"),
    "corrections.claim.site": ("điểm tiêm", "site"),
    "corrections.claim.lot": ("lô", "lot"),
    "corrections.claim.dose": ("Mũi tiêm", "Dose"),
    "corrections.field.full_name": ("Họ tên", "Full name"),
    "corrections.field.date_of_birth": ("Ngày sinh", "Born"),
    "corrections.field.sex": ("Giới tính", "Sex"),
    "corrections.action.filed": ("Công dân gửi yêu cầu", "Filed by the citizen"),
    "corrections.action.approved": ("Chấp thuận", "Approved"),
    "corrections.action.rejected": ("Từ chối", "Rejected"),
    "corrections.done.approved": (
        "Đã chấp thuận: hồ sơ đã được sửa",
        "Approved: the record is corrected",
    ),
    "corrections.done.rejected": (
        "Đã từ chối; công dân sẽ thấy lý do",
        "Rejected; the citizen will see the reason",
    ),
    "corrections.done.changed": (
        "Hồ sơ đã thay đổi kể từ khi bạn mở yêu cầu: hãy xem lại rồi quyết định",
        "The record changed since you opened the request: review it again, then decide",
    ),
    "corrections.done.resolved": ("Yêu cầu đã được xử lý", "The request was already resolved"),
    "corrections.done.not_found": ("Không có yêu cầu này", "No such request"),
    "corrections.done.invalid": ("Hãy ghi lý do từ chối", "Give the reason for the rejection"),
    "corrections.done.token": ("Phiên đã hết hạn, hãy thử lại", "The form expired: try again"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The text for `key` in `lang`, with ``{name}`` fields filled from `values`."""
    chosen = pick(TEXTS[key], lang)
    return chosen.format(**values) if values else chosen
