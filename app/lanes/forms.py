from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, IPAddress, Length, NumberRange, Optional, Regexp

from app.core.fields import DateField

NAME = [DataRequired(), Length(max=80)]
IP = [Optional(), IPAddress(ipv4=True, ipv6=True, message=_l("Enter an IPv4 or IPv6 address."))]
PORT = [Optional(), NumberRange(1, 65535, message=_l("A port is between 1 and 65535."))]
PHONE = [Optional(), Length(max=20), Regexp(r"^[0-9*#+\-]+$", message=_l("Digits, + - * # only."))]
# None = follow the park's parameter; the select posts "" for it
OVERRIDE = [("", _l("Park default")), ("1", _l("Allowed")), ("0", _l("Refused"))]


def _required_when(condition: bool, field, message) -> bool:
    """A field that only some choices make required (Optional() would skip an inline validator)."""
    if condition and not field.data:
        field.errors = [*field.errors, message]
        return False
    return True


def tri_state(value):
    return None if value in (None, "", "None") else value in (True, "1", "True")


class ParkChoiceMixin:
    """The park is chosen when creating; it cannot change afterwards (views delete the field)."""

    park_id = SelectField(_l("Park"), coerce=int, validators=[DataRequired()])


class BoothForm(ParkChoiceMixin, FlaskForm):
    name = StringField(_l("Name"), validators=NAME)
    ip = StringField(_l("IP address"), validators=IP)
    net_type = SelectField(_l("Network"), choices=[("broadband", _l("Broadband")), ("cellular", _l("Cellular"))])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class LaneForm(ParkChoiceMixin, FlaskForm):
    name = StringField(_l("Name"), validators=NAME)
    code = StringField(_l("Code in the on-site system"), validators=[Optional(), Length(max=32)])
    direction = SelectField(_l("Direction"), choices=[("entry", _l("Entry")), ("exit", _l("Exit")),
                                                      ("both", _l("Entry and exit"))])
    booth_id = SelectField(_l("Booth"), coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    allow_non_pass_cars = SelectField(_l("Cars without a pass"), choices=OVERRIDE, coerce=tri_state)
    allow_pass_second_car = SelectField(_l("Second car of a pass"), choices=OVERRIDE, coerce=tri_state)
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class LaneDeviceForm(FlaskForm):
    """Devices that hang at a lane; their park is the lane's."""

    lane_id = SelectField(_l("Lane"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=NAME)


class CameraForm(LaneDeviceForm):
    ip = StringField(_l("IP address"), validators=[DataRequired()] + IP[1:])
    port = IntegerField(_l("Port"), default=554, validators=[DataRequired()] + PORT[1:])
    maker = StringField(_l("Maker"), validators=[Optional(), Length(max=40)])
    username = PasswordField(_l("User name"), validators=[Optional(), Length(max=80)],
                             description=_l("Stored encrypted. Leave blank to keep the stored one."))
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=80)],
                             description=_l("Stored encrypted. Leave blank to keep the stored one."))
    submit = SubmitField(_l("Save"))


class BarrierForm(LaneDeviceForm):
    model = StringField(_l("Model"), validators=[Optional(), Length(max=40)])
    serial_port = StringField(_l("Serial port"), validators=[Optional(), Length(max=20)])
    ip = StringField(_l("IP address"), validators=IP)
    submit = SubmitField(_l("Save"))


MOVE_MODES = [(0, _l("Fit")), (1, _l("Scroll right to left")), (2, _l("Scroll left to right")),
              (3, _l("Scroll bottom to top")), (4, _l("Scroll top to bottom")), (5, _l("Unfold to the right")),
              (6, _l("Unfold to the left")), (7, _l("Unfold upwards")), (8, _l("Unfold downwards")),
              (9, _l("Show at once")), (10, _l("Unfold from the middle sideways")),
              (11, _l("Close to the middle sideways")), (12, _l("Unfold from the middle vertically")),
              (13, _l("Close to the middle vertically")), (14, _l("Blink")), (15, _l("Blinds from the right"))]


class LedForm(LaneDeviceForm):
    ip = StringField(_l("IP address"), validators=IP)
    port = IntegerField(_l("Port"), validators=PORT)
    link = SelectField(_l("Connection"), choices=[("rs485", "RS485"), ("rs232-1", "RS232-1"),
                                                  ("rs232-2", "RS232-2"), ("network", _l("Network"))])
    screen_type = SelectField(_l("Screen type"), choices=[("normal", _l("Messages")),
                                                          ("free_spaces", _l("Free spaces"))])
    content = StringField(_l("Text shown"), validators=[Optional(), Length(max=200)])
    material_uid = StringField(_l("Material UID"), validators=[Optional(), Length(max=40)])
    move_mode = SelectField(_l("Effect"), choices=MOVE_MODES, coerce=int)
    move_speed = IntegerField(_l("Speed"), default=1, validators=[DataRequired(), NumberRange(1, 10)])
    dwell_seconds = IntegerField(_l("Dwell (seconds)"), default=2, validators=[Optional(), NumberRange(0, 5)])
    color_mode = SelectField(_l("Colours"), choices=[("single", _l("Single colour")), ("dual", _l("Two colours"))])
    text_color = SelectField(_l("Text colour"), choices=[("red", _l("Red")), ("green", _l("Green")),
                                                         ("yellow", _l("Yellow"))])
    typeface = SelectField(_l("Typeface"), choices=[("song", _l("Song")), ("kai", _l("Kai")), ("hei", _l("Hei")),
                                                    ("li", _l("Li")), ("xing", _l("Xing"))])
    type_size = SelectField(_l("Character size"), coerce=int,
                            choices=[(n, f"{n}×{n}") for n in (12, 16, 24, 32, 40, 48, 64, 96)], default=16)
    width = IntegerField(_l("Width (dots)"), default=128, validators=[DataRequired(), NumberRange(8, 4096)])
    height = IntegerField(_l("Height (dots)"), default=32, validators=[DataRequired(), NumberRange(8, 4096)])
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return _required_when(self.link.data == "network", self.ip,
                              _l("A screen on the network needs its IP address.")) and ok


class MonitorForm(ParkChoiceMixin, FlaskForm):
    kind = SelectField(_l("Kind"), choices=[("video", _l("Video monitor")), ("intercom", _l("Intercom"))])
    name = StringField(_l("Name"), validators=NAME)
    lane_id = SelectField(_l("Lane"), coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    play_url = StringField(_l("Stream address (RTSP/RTMP/HLS)"), validators=[
        Optional(), Length(max=300), Regexp(r"^(rtsp|rtmp|https?)://\S+$", message=_l("An rtsp, rtmp or http(s) "
                                                                                      "address."))])
    shown = BooleanField(_l("Shown on the monitoring wall"), default=True)
    show_order = IntegerField(_l("Order on the wall"), default=0, validators=[Optional(), NumberRange(0, 999)])
    extension = StringField(_l("Extension"), validators=PHONE)
    park_phone = StringField(_l("Park console number"), validators=PHONE)
    group_phone = StringField(_l("Group console number"), validators=PHONE)
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = _required_when(self.kind.data == "video", self.play_url,
                            _l("A video monitor needs its stream address.")) and ok
        return _required_when(self.kind.data == "intercom", self.extension,
                              _l("An intercom needs its extension number.")) and ok


class SimForm(ParkChoiceMixin, FlaskForm):
    iccid = StringField(_l("ICCID"), validators=[DataRequired(), Regexp(
        r"^[0-9A-Fa-f]{19,22}$", message=_l("An ICCID has 19 to 22 digits."))])
    number = StringField(_l("Phone number"), validators=PHONE)
    carrier = StringField(_l("Carrier"), validators=[Optional(), Length(max=20)])
    device = SelectField(_l("Device"))
    expires_on = DateField(_l("Plan expires on"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class DeviceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    park_id = SelectField(_l("Park"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                          validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), ("online", _l("Online")),
                                                ("offline", _l("Offline")), ("disabled", _l("Disabled"))],
                         validators=[Optional()])
    q = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
