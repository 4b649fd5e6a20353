//! The Telegram block: the bot token (masked, checked as typed, kept in
//! the keyring), the chat it posts in (typed, or chosen with Find chat from
//! the chats that wrote to the bot), Enable, Verify, and Resume when paused.

use eframe::egui;

use super::channel_controls::{enable_ui, verify_ui};
use super::channel_health::paused_ui;
use super::command::UiCommand;
use super::engine_state::{EngineState, FindChats};
use super::secret_url_field::{FieldWords, SecretUrlField, saved_ui};
use super::widgets;
use crate::core::channels::telegram::{self, BotToken, ChatId};
use crate::core::settings::{Channel, Settings};
use crate::engine::service::{EngineCommand, SettingsChange};

/// The Telegram block's own state: the token and chat being typed.
#[derive(Default)]
pub struct TelegramPanel {
    token: SecretUrlField<BotToken>,
    chat: String,
}

const TOKEN_WORDS: FieldWords = FieldWords {
    label: "Telegram bot token",
    placeholder: "123456789:AA…",
    show: "Show token",
    save: "Save token",
};

impl TelegramPanel {
    /// Masks what was typed again.
    pub fn hide(&mut self) {
        self.token.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.token.settle(state);
        widgets::section(ui, "Telegram", |ui| {
            widgets::hint(
                ui,
                "In Telegram: talk to @BotFather, send /newbot, and paste the token it gives here. Then send /start to your bot (or add it to your group) and press Find chat.",
            );
            widgets::warn_line(
                ui,
                "Anyone with the token controls your bot: keep it private. farmhook keeps it only in the OS keyring.",
            );
            ui.add_space(6.0);
            ui.add_enabled_ui(state.keyring_ok(), |ui| self.token_ui(ui, state, commands));
            ui.add_space(6.0);
            self.chat_ui(ui, settings, state, commands);
            ui.add_space(6.0);
            enable_ui(ui, settings, state, Channel::Telegram, commands);
            verify_ui(
                ui,
                state,
                Channel::Telegram,
                "which bot the token is and whether it can see the chat",
                commands,
            );
            paused_ui(ui, state, Channel::Telegram, commands);
        });
    }

    fn token_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let stored = state
            .secrets
            .parsed(&telegram::TOKEN_SECRET, BotToken::parse);
        let submitted = self.token.ui(
            ui,
            &TOKEN_WORDS,
            stored.as_ref(),
            BotToken::parse,
            |token| {
                format!(
                    "a bot token (bot {}): press Enter or Save token to keep it in the keyring",
                    token.bot_id()
                )
            },
            |token| format!("saving bot {}'s token in the keyring…", token.bot_id()),
        );
        if let Some((ticket, text)) = submitted {
            commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                ticket,
                &telegram::TOKEN_SECRET,
                text.into(),
            )));
        }
        let forget = saved_ui(
            ui,
            stored.map(|t| t.redacted()),
            "Forget token",
            "Remove the token from the keyring and turn Telegram off",
            "No token saved yet.",
            state.keyring_ok(),
        );
        if forget {
            commands.push(UiCommand::Engine(EngineCommand::ClearChannel(
                Channel::Telegram,
            )));
        }
    }

    /// The chat: shown when chosen, typed by hand, or picked from Find chat.
    fn chat_ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        let label = widgets::field_label(ui, "Chat");
        match &settings.channels[Channel::Telegram].chat_id {
            Some(chat) => widgets::ok_line(ui, format!("posts in chat {chat}")),
            None => widgets::warn_line(ui, "no chat chosen yet"),
        };
        ui.horizontal_wrapped(|ui| {
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.chat)
                        .hint_text("-1001234567890 or @channelname")
                        .desired_width(widgets::field_width(ui, 180.0)),
                )
                .labelled_by(label.id);
            let parsed = ChatId::parse(&self.chat);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let use_it = ui
                .add_enabled(parsed.is_ok(), egui::Button::new("Use chat"))
                .clicked();
            if (enter || use_it) && parsed.is_ok() {
                commands.push(UiCommand::Change(SettingsChange::Chat(Some(
                    self.chat.trim().to_string(),
                ))));
                self.chat.clear();
            }
            if let (Err(e), false) = (&parsed, self.chat.trim().is_empty()) {
                widgets::error_line(ui, e.to_string());
            }
        });
        let has_token = state.secrets.holds(telegram::TOKEN_SECRET.entry);
        ui.horizontal_wrapped(|ui| {
            let asking = matches!(state.found_chats, FindChats::Asking);
            if ui
                .add_enabled(has_token && !asking, egui::Button::new("Find chat"))
                .on_hover_text("List the chats that wrote to your bot (nothing is posted)")
                .on_disabled_hover_text("Save the bot token first")
                .clicked()
            {
                commands.push(UiCommand::Engine(EngineCommand::FindChats));
            }
            match &state.found_chats {
                FindChats::NotAsked => {
                    widgets::hint(ui, "send /start to your bot, then press Find chat");
                }
                FindChats::Asking => {
                    ui.spinner();
                    ui.label("asking Telegram…");
                }
                FindChats::Answered(Ok(chats)) if chats.is_empty() => {
                    widgets::warn_line(
                        ui,
                        "no chat has written to the bot yet: send /start to it, then press Find chat again",
                    );
                }
                FindChats::Answered(Ok(_)) => {}
                FindChats::Answered(Err(e)) => {
                    widgets::error_line(ui, e);
                }
            }
        });
        if let FindChats::Answered(Ok(chats)) = &state.found_chats {
            for chat in chats {
                ui.horizontal_wrapped(|ui| {
                    if ui
                        .button(format!("Use {}", chat.display()))
                        .on_hover_text("Post in this chat")
                        .clicked()
                    {
                        commands.push(UiCommand::Change(SettingsChange::Chat(Some(
                            chat.chat_id.to_string(),
                        ))));
                    }
                });
            }
        }
    }
}
