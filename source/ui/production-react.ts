// React's development build checks, times and records every render: a third
// of the UI's CPU in a profile. The UI is not developed in the terminal it
// runs in, so it loads the production build whatever NODE_ENV the user's
// shell sets for their own projects. Imported before ink, which loads react.
process.env.NODE_ENV = 'production';
