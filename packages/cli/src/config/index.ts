/** Settings from flags, HOLDFAST_* environment variables and a JSON config file (see settings.ts). */
export { envName, loadSettings, type SettingsSpec } from './settings.js';
export { type Settings, type Source, settingLabel, settingSource } from './source.js';
