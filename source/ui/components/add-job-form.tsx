import {FormDialog, type FormDialogProps} from './form-dialog.js';

type AddJobFormProps = FormDialogProps & {
	/** Where the job will run; a relative script is found from here. */
	readonly cwd: string;
};

export function AddJobForm({cwd, ...props}: AddJobFormProps) {
	return <FormDialog {...props} title="Add a job" intro={`Runs in ${cwd}. Arguments split like a shell's, nothing expanded.`} />;
}
