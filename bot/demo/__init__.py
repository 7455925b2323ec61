"""Data files of the demo alliance of Haibin (海滨市), a fictional city: see bot.services.demo."""
